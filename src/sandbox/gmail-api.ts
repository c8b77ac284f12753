import type Koa from 'koa';
import Router, { type RouterContext } from '@koa/router';
import type { Logger } from '../observability/logger';
import type { Clock } from './clock';
import { takeRateLimit, takeSendFailure } from './faults';
import { authenticate, checkUserId, metadataOnly, requireScope, SCOPES } from './gmail-access';
import { clamp, listHistory } from './gmail-history';
import { decodeAttachmentId, MESSAGE_FORMATS, messageResource } from './gmail-message-resource';
import { parseQuery } from './gmail-search';
import { SYSTEM_LABELS, type GmailStore, type Mailbox, type StoredMessage } from './gmail-store';
import { GoogleApiError, gmailErrors, sendGoogleError } from './google-errors';
import type { SandboxHooks } from './hooks';
import { BodyTooLargeError, bodyObject, queryList, queryString, readRawBody, sandboxBodyParser } from './http-body';
import { numericSubjectId } from './ids';
import type { MailDelivery } from './mail-delivery';
import { flattenParts, parseMimeTree } from './mime-tree';
import type { AccessTokenInfo, OAuthStore } from './oauth-store';
import { decodePageToken, encodePageToken } from './page-token';
import type { GmailMethod } from './quota';

/**
 * The Gmail REST API subset the product uses, at /gmail/v1/users/{userId}/... on the app's own
 * origin (googleapis keeps only the origin of a rootUrl, so the paths are Google's own), plus the
 * media upload form of messages.send under /upload/gmail/v1/. Every call is authenticated,
 * scope-checked, rate-limited (faults and the per-user quota window) and counted, in that order.
 */

export interface GmailApiDeps {
  store: GmailStore;
  oauth: OAuthStore;
  delivery: MailDelivery;
  clock: Clock;
  logger: Logger;
  topicName: string;
  /** Fault-test observation points (hooks.ts). */
  hooks?: SandboxHooks;
}

interface Call {
  info: AccessTokenInfo;
  mailbox: Mailbox;
}

type Ctx = RouterContext;
type Handler = (ctx: Ctx, call: Call) => Promise<void> | void;

const WATCH_TTL_MS = 7 * 24 * 3600_000;
const MAX_MESSAGE_BYTES = 36 * 1024 * 1024;
const UNMODIFIABLE_LABELS = new Set(['SENT', 'DRAFT', 'CHAT']);

export function gmailApiRouter(deps: GmailApiDeps): Router {
  const { store, clock, logger } = deps;
  const router = new Router();

  router.use(async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      if (err instanceof GoogleApiError) return sendGoogleError(ctx, err);
      if (err instanceof BodyTooLargeError) return sendGoogleError(ctx, new GoogleApiError(413, 'Request payload size exceeds the limit.', 'INVALID_ARGUMENT', [{ message: 'Request payload size exceeds the limit.', domain: 'global', reason: 'badRequest' }]));
      const status = (err as { status?: unknown }).status;
      if (typeof status === 'number' && status >= 400 && status < 500) {
        return sendGoogleError(ctx, new GoogleApiError(status, 'Invalid JSON payload received.', 'INVALID_ARGUMENT', [{ message: 'Invalid JSON payload received.', domain: 'global', reason: 'parseError' }]));
      }
      logger.error({ err: err instanceof Error ? err.message : String(err), path: ctx.path }, 'sandbox gmail api failure');
      sendGoogleError(ctx, gmailErrors.backendError());
    }
  });
  router.use(sandboxBodyParser);

  const api = (method: GmailMethod, scopes: readonly string[], handler: Handler) => async (ctx: Ctx) => {
    const info = authenticate(ctx, deps.oauth);
    checkUserId(ctx.params.userId ?? '', info);
    requireScope(info, scopes);
    const mailbox = store.getOrCreate(info.email);
    // --- fault-test hook: after the answer (whatever its status) is written ---
    const hooks = deps.hooks;
    if (hooks?.active('gmail.answered')) {
      ctx.res.once('finish', () => void hooks.fire('gmail.answered', { mailbox: mailbox.address, method, status: ctx.status, body: ctx.body }));
    }
    // --- end of hook ---
    const now = clock();
    if (takeRateLimit(mailbox.faults)) throw gmailErrors.rateLimited(new Date(now + 1000), 1);
    const wait = mailbox.quota.waitBeforeCall(method, now);
    if (wait > 0) throw gmailErrors.rateLimited(new Date(now + wait), Math.ceil(wait / 1000));
    mailbox.quota.record(method, now);
    logger.debug({ method, user: numericSubjectId(mailbox.address) }, 'sandbox gmail call');
    await handler(ctx, { info, mailbox });
  };

  const users = '/gmail/v1/users/:userId';

  router.get(`${users}/profile`, api('getProfile', SCOPES.profile, (ctx, { mailbox }) => {
    ctx.body = {
      emailAddress: mailbox.address,
      messagesTotal: mailbox.messages.size,
      threadsTotal: mailbox.threads.size,
      historyId: String(mailbox.historyId),
    };
  }));

  router.post(`${users}/watch`, api('watch', SCOPES.read, (ctx, { mailbox }) => {
    const body = bodyObject(ctx);
    const topicName = body.topicName;
    if (typeof topicName !== 'string' || !/^projects\/[^/]+\/topics\/[^/]+$/.test(topicName)) {
      throw gmailErrors.invalidArgument('Invalid topicName does not match projects/SOME-PROJECT/topics/*');
    }
    if (topicName !== deps.topicName) throw gmailErrors.invalidArgument(`Invalid topicName does not match ${deps.topicName}`);
    const labelIds = stringList(body.labelIds, 'labelIds');
    for (const l of labelIds) if (!SYSTEM_LABELS.has(l)) throw gmailErrors.invalidArgument(`Invalid label name: ${l.slice(0, 40)}`);
    const behaviorRaw = body.labelFilterBehavior ?? body.labelFilterAction ?? 'include';
    const behavior = typeof behaviorRaw === 'string' ? behaviorRaw.toLowerCase() : '';
    if (behavior !== 'include' && behavior !== 'exclude') throw gmailErrors.invalidArgument('Invalid labelFilterBehavior');
    // Gmail keeps one push client per mailbox and developer project; another one must be stopped first.
    if (mailbox.faults.watchConflict) throw gmailErrors.invalidArgument('Only one user push notification client allowed per developer (call /stop then try again)');
    const expiration = clock() + WATCH_TTL_MS;
    mailbox.watch = { topicName, labelIds, behavior, expiration };
    clearExpiredHistory(mailbox);
    logger.info({ user: numericSubjectId(mailbox.address), labelFilters: labelIds.length }, 'sandbox gmail watch started');
    ctx.body = { historyId: String(mailbox.historyId), expiration: String(expiration) };
  }));

  router.post(`${users}/stop`, api('stop', SCOPES.read, (ctx, { mailbox }) => {
    mailbox.watch = undefined;
    mailbox.faults.watchConflict = false;
    ctx.status = 204;
    ctx.body = null;
  }));

  router.get(`${users}/history`, api('history.list', SCOPES.read, (ctx, { mailbox }) => {
    ctx.body = listHistory(mailbox, {
      startHistoryId: queryString(ctx, 'startHistoryId'),
      historyTypes: queryList(ctx, 'historyTypes'),
      labelId: queryString(ctx, 'labelId'),
      maxResults: queryString(ctx, 'maxResults'),
      pageToken: queryString(ctx, 'pageToken'),
    });
  }));

  router.get(`${users}/labels`, api('labels.list', SCOPES.labels, (ctx) => {
    ctx.body = { labels: [...SYSTEM_LABELS].map((id) => ({ id, name: id, type: 'system' })) };
  }));

  router.get(`${users}/messages`, api('messages.list', SCOPES.read, (ctx, { info, mailbox }) => {
    const q = queryString(ctx, 'q') ?? '';
    if (q !== '' && metadataOnly(info)) throw gmailErrors.forbidden("Metadata scope does not support 'q' parameter");
    const labelIds = queryList(ctx, 'labelIds');
    const maxResults = clamp(queryString(ctx, 'maxResults'), 100, 500);
    const pageToken = queryString(ctx, 'pageToken');
    const offset = pageToken ? decodePageToken(pageToken) : 0;
    if (offset === undefined) throw gmailErrors.invalidArgument('Invalid pageToken');
    const query = parseQuery(q, mailbox.address, clock());
    if (query.unsupported.length > 0) logger.warn({ unsupportedTerms: query.unsupported.length, operators: query.unsupported.filter((t) => /^[a-z_]+$/.test(t)) }, 'sandbox gmail search: unsupported terms ignored');
    const includeSpamTrash = queryString(ctx, 'includeSpamTrash') === 'true' || query.includesSpamTrash;
    const matching = [...mailbox.messages.values()]
      .filter((m) => includeSpamTrash || !m.labelIds.some((l) => l === 'SPAM' || l === 'TRASH'))
      .filter((m) => labelIds.every((l) => m.labelIds.includes(l)))
      .filter(query.matches)
      .sort(newestFirst);
    const page = matching.slice(offset, offset + maxResults);
    if (!pageToken) clearExpiredHistory(mailbox);
    ctx.body = {
      ...(page.length > 0 ? { messages: page.map((m) => ({ id: m.id, threadId: m.threadId })) } : {}),
      ...(offset + maxResults < matching.length ? { nextPageToken: encodePageToken(offset + maxResults) } : {}),
      resultSizeEstimate: matching.length,
    };
  }));

  router.get(`${users}/messages/:id`, api('messages.get', SCOPES.read, (ctx, { info, mailbox }) => {
    const message = findMessage(mailbox, ctx.params.id ?? '');
    const format = readFormat(ctx, MESSAGE_FORMATS);
    if ((format === 'full' || format === 'raw') && metadataOnly(info)) throw gmailErrors.forbidden(`Metadata scope doesn't allow format ${format.toUpperCase()}`);
    ctx.body = messageResource(message, format, queryList(ctx, 'metadataHeaders'));
  }));

  router.get(`${users}/messages/:id/attachments/:attachmentId`, api('messages.attachments.get', SCOPES.content, (ctx, { mailbox }) => {
    const message = findMessage(mailbox, ctx.params.id ?? '');
    const ref = decodeAttachmentId(ctx.params.attachmentId ?? '');
    const part = ref && ref.messageId === message.id ? flattenParts(message.tree).find((p) => p.partId === ref.partId) : undefined;
    if (!part?.body) throw gmailErrors.invalidArgument('Invalid attachment token');
    ctx.body = { size: part.body.length, data: part.body.toString('base64url') };
  }));

  router.post(`${users}/messages/:id/modify`, api('messages.modify', SCOPES.modify, (ctx, { mailbox }) => {
    const message = findMessage(mailbox, ctx.params.id ?? '');
    const body = bodyObject(ctx);
    const add = stringList(body.addLabelIds, 'addLabelIds');
    const remove = stringList(body.removeLabelIds, 'removeLabelIds');
    for (const l of [...add, ...remove]) {
      if (!SYSTEM_LABELS.has(l) || UNMODIFIABLE_LABELS.has(l)) throw gmailErrors.invalidArgument(`Invalid label: ${l.slice(0, 40)}`);
    }
    store.modifyLabels(mailbox, message, add, remove);
    ctx.body = { id: message.id, threadId: message.threadId, labelIds: [...message.labelIds] };
  }));

  const send: Handler = async (ctx, { mailbox }) => {
    const { raw, threadId } = await readSendRequest(ctx);
    // --- fault-test hook: a send that never reaches Gmail (the client died just before it) ---
    if (deps.hooks?.active('send.received') && (await deps.hooks.fire('send.received', { mailbox: mailbox.address, raw, threadId })) === 'drop') {
      logger.info({ user: numericSubjectId(mailbox.address) }, 'sandbox send dropped unanswered (test hook)');
      ctx.respond = false;
      ctx.req.socket.destroy();
      return;
    }
    // --- end of hook ---
    let failure: 'before' | 'after' | null = null;
    const { message } = await deps.delivery.send(mailbox, raw, threadId, () => {
      failure = takeSendFailure(mailbox.faults);
      if (failure === 'before') {
        logger.info({ user: numericSubjectId(mailbox.address) }, 'sandbox send failed before storing (fault)');
        throw gmailErrors.backendError();
      }
    });
    // --- fault-test hook: stored in Gmail, not yet answered ---
    if (deps.hooks?.active('send.stored')) await deps.hooks.fire('send.stored', { mailbox: mailbox.address, messageId: message.id, threadId: message.threadId, raw: message.raw });
    // --- end of hook ---
    if (failure === 'after') {
      logger.info({ user: numericSubjectId(mailbox.address), messageId: message.id }, 'sandbox send failed after storing (fault)');
      throw gmailErrors.backendError();
    }
    ctx.body = { id: message.id, threadId: message.threadId, labelIds: [...message.labelIds] };
  };
  router.post(`${users}/messages/send`, api('messages.send', SCOPES.send, send));
  router.post(`/upload${users}/messages/send`, api('messages.send', SCOPES.send, send));

  router.get(`${users}/threads/:id`, api('threads.get', SCOPES.read, (ctx, { info, mailbox }) => {
    const id = ctx.params.id ?? '';
    if (!/^[0-9a-f]{16}$/.test(id)) throw gmailErrors.invalidArgument('Invalid id value');
    const messages = store.threadMessages(mailbox, id);
    if (messages.length === 0) throw gmailErrors.notFound();
    const format = readFormat(ctx, ['full', 'metadata', 'minimal']);
    if (format === 'full' && metadataOnly(info)) throw gmailErrors.forbidden("Metadata scope doesn't allow format FULL");
    const headers = queryList(ctx, 'metadataHeaders');
    ctx.body = {
      id,
      historyId: String(Math.max(...messages.map((m) => m.historyId))),
      messages: messages.map((m) => messageResource(m, format, headers)),
    };
  }));

  return router;
}

function newestFirst(a: StoredMessage, b: StoredMessage): number {
  return b.internalDate - a.internalDate || (a.id < b.id ? 1 : -1);
}

function findMessage(mailbox: Mailbox, id: string): StoredMessage {
  if (!/^[0-9a-f]{16}$/.test(id)) throw gmailErrors.invalidArgument('Invalid id value');
  const message = mailbox.messages.get(id);
  if (!message) throw gmailErrors.notFound();
  return message;
}

function readFormat<T extends string>(ctx: Koa.Context, allowed: readonly T[]): T {
  const value = (queryString(ctx, 'format') ?? 'full').toLowerCase();
  if (!(allowed as readonly string[]).includes(value)) {
    throw gmailErrors.invalidArgument(`Invalid value at 'format' (type.googleapis.com/gmail.Format), "${value.slice(0, 20)}"`);
  }
  return value as T;
}

function stringList(value: unknown, field: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw gmailErrors.invalidArgument(`Invalid value at '${field}'`);
  return value as string[];
}

function clearExpiredHistory(mailbox: Mailbox): void {
  mailbox.expiredUpTo = undefined;
  mailbox.faults.expireHistory = false;
}

const RAW_REQUIRED = "'raw' RFC822 payload message string or uploading message via /upload/* URL required";

function decodeRaw(value: unknown): Buffer {
  if (typeof value !== 'string' || value.trim() === '') throw gmailErrors.invalidArgument(RAW_REQUIRED);
  if (!/^[A-Za-z0-9+/_\-=\s]+$/.test(value)) throw gmailErrors.invalidArgument("Invalid value at 'message.raw' (TYPE_BYTES), Base64 decoding failed");
  const raw = Buffer.from(value.replace(/\s+/g, ''), 'base64');
  if (raw.length === 0) throw gmailErrors.invalidArgument(RAW_REQUIRED);
  return raw;
}

function optionalThreadId(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw gmailErrors.invalidArgument("Invalid value at 'message.thread_id'");
  return value;
}

/** messages.send body: JSON `{raw, threadId}`, or an upload (uploadType=media or multipart). */
async function readSendRequest(ctx: Koa.Context): Promise<{ raw: Buffer; threadId?: string }> {
  if (!ctx.path.includes('/upload/')) {
    const body = bodyObject(ctx);
    return { raw: decodeRaw(body.raw), threadId: optionalThreadId(body.threadId) };
  }
  const uploadType = queryString(ctx, 'uploadType');
  const bytes = await readRawBody(ctx, MAX_MESSAGE_BYTES);
  if (uploadType === 'media') {
    if (bytes.length === 0) throw gmailErrors.invalidArgument(RAW_REQUIRED);
    return { raw: bytes };
  }
  if (uploadType === 'multipart') {
    const contentType = ctx.get('content-type');
    if (!/^multipart\/related/i.test(contentType)) throw gmailErrors.invalidArgument('Expected multipart/related for uploadType=multipart');
    const tree = await parseMimeTree(Buffer.concat([Buffer.from(`Content-Type: ${contentType}\r\n\r\n`), bytes]));
    const [metaPart, mediaPart] = tree.parts;
    if (!metaPart?.body || !mediaPart?.body || mediaPart.body.length === 0) throw gmailErrors.invalidArgument(RAW_REQUIRED);
    let meta: Record<string, unknown> = {};
    try {
      const parsed: unknown = JSON.parse(metaPart.body.toString('utf8') || '{}');
      if (parsed && typeof parsed === 'object') meta = parsed as Record<string, unknown>;
    } catch {
      throw gmailErrors.invalidArgument('Invalid JSON payload received.');
    }
    return { raw: mediaPart.body, threadId: optionalThreadId(meta.threadId) };
  }
  throw gmailErrors.invalidArgument(`Invalid uploadType: ${String(uploadType).slice(0, 20)}`);
}
