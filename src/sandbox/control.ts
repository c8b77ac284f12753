import Ajv, { type ErrorObject } from 'ajv';
import Router from '@koa/router';
import MailComposer from 'nodemailer/lib/mail-composer';
import addressparser from 'nodemailer/lib/addressparser';
import type { Logger } from '../observability/logger';
import { FAULTS_SCHEMA, faultsFromRequest, faultsToJson, type FaultRequest } from './faults';
import type { GmailStore, Mailbox } from './gmail-store';
import { sendControlError, type ErrorDetail } from './google-errors';
import { bodyObject, sandboxBodyParser } from './http-body';
import { looksLikeEmail, numericSubjectId } from './ids';
import type { MailDelivery } from './mail-delivery';
import { parseHeaderLine } from './mime-tree';
import type { OAuthStore } from './oauth-store';

/**
 * The sandbox control endpoints (SPEC "Sandbox control"), JSON in and out, errors in the product's
 * `{"error": {code, message, details}}` shape:
 *   POST /sandbox/gmail/mailboxes/:email/incoming   deliver a mail, push the notification
 *   GET  /sandbox/gmail/mailboxes/:email/sent       what was sent through the Gmail API
 *   POST /sandbox/gmail/mailboxes/:email/faults     set (replace) the fault set; {} clears it
 *   GET  /sandbox/gmail/mailboxes/:email/faults     the current fault set
 *   GET  /sandbox/gmail/mailboxes/:email/quota      Gmail quota units and calls per method
 *   DELETE /sandbox/gmail/mailboxes/:email/messages/:id  delete a message for good (its history stays)
 */

export interface ControlRouterDeps {
  store: GmailStore;
  oauth: OAuthStore;
  delivery: MailDelivery;
  logger: Logger;
}

const stringOrList = { anyOf: [{ type: 'string', minLength: 1 }, { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 }] };

const INCOMING_SCHEMA = {
  type: 'object',
  oneOf: [
    {
      required: ['raw'],
      additionalProperties: false,
      properties: { raw: { type: 'string', minLength: 1 }, thread_id: { type: 'string', pattern: '^[0-9a-f]{16}$' } },
    },
    {
      required: ['from', 'subject'],
      anyOf: [{ required: ['text'] }, { required: ['html'] }],
      additionalProperties: false,
      properties: {
        from: { type: 'string', minLength: 3, maxLength: 998 },
        subject: { type: 'string', maxLength: 998 },
        text: { type: 'string' },
        html: { type: 'string' },
        in_reply_to: { type: 'string', minLength: 1 },
        references: stringOrList,
        thread_id: { type: 'string', pattern: '^[0-9a-f]{16}$' },
        to: stringOrList,
        headers: { type: 'object', additionalProperties: { type: 'string' }, propertyNames: { pattern: '^[!-9;-~]+$' } },
      },
    },
  ],
} as const;

interface IncomingRequest {
  raw?: string;
  from?: string;
  subject?: string;
  text?: string;
  html?: string;
  in_reply_to?: string;
  references?: string | string[];
  thread_id?: string;
  to?: string | string[];
  headers?: Record<string, string>;
}

const ajv = new Ajv({ allErrors: true });
const validateIncoming = ajv.compile<IncomingRequest>(INCOMING_SCHEMA);
const validateFaults = ajv.compile<FaultRequest>(FAULTS_SCHEMA);

function details(errors: ErrorObject[] | null | undefined, branch?: number): ErrorDetail[] {
  const seen = new Set<string>();
  const out: ErrorDetail[] = [];
  for (const e of errors ?? []) {
    if (e.keyword === 'oneOf' || e.keyword === 'anyOf' || e.keyword === 'if') continue;
    // Of a oneOf, only the errors of the form the caller meant (the others' say "is not allowed").
    const inBranch = /^#\/oneOf\/(\d+)\//.exec(e.schemaPath);
    if (branch !== undefined && inBranch && Number(inBranch[1]) !== branch) continue;
    const missing = (e.params as { missingProperty?: string }).missingProperty;
    const extra = (e.params as { additionalProperty?: string }).additionalProperty;
    const path = e.instancePath + (missing ? `/${missing}` : extra ? `/${extra}` : '') || '/';
    const message = extra ? 'is not allowed' : e.message ?? 'is invalid';
    const key = `${path} ${message}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push({ path, message });
    }
  }
  return out;
}

/** Which form of the incoming schema a body means: `{raw}` (0) or the fields (1). */
function isRawForm(body: unknown): boolean {
  return typeof body === 'object' && body !== null && 'raw' in body;
}

export function controlRouter(deps: ControlRouterDeps): Router {
  const { store, logger } = deps;
  const router = new Router({ prefix: '/sandbox/gmail/mailboxes/:email' });
  router.use(async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      const status = (err as { status?: unknown }).status;
      if (typeof status === 'number' && status >= 400 && status < 500) return sendControlError(ctx, 400, 'invalid_json', 'The request body is not valid JSON.');
      throw err;
    }
  });
  router.use(async (ctx, next) => {
    const email = ctx.params.email ?? '';
    if (!looksLikeEmail(email)) return sendControlError(ctx, 400, 'invalid_mailbox', 'The mailbox must be an email address.', [{ path: 'email', message: 'must be an email address' }]);
    await next();
  });
  router.use(sandboxBodyParser);

  const emptyOrFind = (email: string): Mailbox | undefined => store.find(email);

  router.post('/incoming', async (ctx) => {
    const body: unknown = bodyObject(ctx);
    if (!validateIncoming(body)) {
      return sendControlError(ctx, 400, 'validation_failed', 'The incoming mail is invalid: give {from, subject, text} or {raw}.', details(validateIncoming.errors, isRawForm(body) ? 0 : 1));
    }
    const mailbox = store.getOrCreate(ctx.params.email ?? '');
    let raw: Buffer;
    if (body.raw !== undefined) {
      raw = Buffer.from(body.raw.replace(/\s+/g, ''), 'base64');
      if (!/^[A-Za-z0-9+/_\-=\s]+$/.test(body.raw) || !hasHeaderBlock(raw)) {
        return sendControlError(ctx, 400, 'validation_failed', 'raw must be a base64 RFC 822 message.', [{ path: '/raw', message: 'must be base64 of an RFC 822 message (headers, blank line, body)' }]);
      }
    } else {
      const from = addressparser(body.from ?? '', { flatten: true });
      if (from.length !== 1 || !from[0]?.address || !looksLikeEmail(from[0].address)) {
        return sendControlError(ctx, 400, 'validation_failed', 'from must be one email address.', [{ path: '/from', message: 'must be an address such as "Bob <bob@example.com>"' }]);
      }
      raw = await new MailComposer({
        from: body.from,
        to: body.to ?? mailbox.address,
        subject: body.subject,
        text: body.text,
        html: body.html,
        inReplyTo: body.in_reply_to,
        references: body.references,
        headers: body.headers,
      }).compile().build();
    }
    const message = await deps.delivery.deliverIncoming(mailbox, raw, body.thread_id);
    const messageId = message.tree.headers.find((h) => h.name.toLowerCase() === 'message-id')?.value ?? '';
    ctx.status = 201;
    ctx.body = { id: message.id, thread_id: message.threadId, message_id: messageId };
  });

  router.get('/sent', (ctx) => {
    const mailbox = emptyOrFind(ctx.params.email ?? '');
    ctx.body = { items: (mailbox?.sent ?? []).map((s) => ({ id: s.id, thread_id: s.threadId, raw: s.raw.toString('base64'), headers: headerMap(s.raw) })) };
  });

  router.post('/faults', (ctx) => {
    // The parsed body as sent (a JSON array must be refused, not read as `{}`, which clears every fault).
    const body: unknown = ctx.request.body ?? {};
    if (!validateFaults(body)) return sendControlError(ctx, 400, 'validation_failed', 'The fault set is invalid.', details(validateFaults.errors));
    const mailbox = store.getOrCreate(ctx.params.email ?? '');
    mailbox.faults = faultsFromRequest(body);
    mailbox.expiredUpTo = mailbox.faults.expireHistory ? mailbox.historyId : undefined;
    let revoked = 0;
    if (body.revoke_grant) revoked = deps.oauth.revokeUser(mailbox.address);
    logger.info({ user: numericSubjectId(mailbox.address), faults: Object.keys(body as object).length, revokedGrants: revoked }, 'sandbox faults set');
    ctx.body = { ...faultsToJson(mailbox.faults), ...(body.revoke_grant ? { revoked_grants: revoked } : {}) };
  });

  router.delete('/messages/:id', (ctx) => {
    const mailbox = emptyOrFind(ctx.params.email ?? '');
    if (!mailbox || !store.deleteMessage(mailbox, ctx.params.id ?? '')) return sendControlError(ctx, 404, 'not_found', 'No such message in this mailbox.', []);
    logger.info({ user: numericSubjectId(mailbox.address) }, 'sandbox message deleted');
    ctx.status = 204;
  });

  router.get('/faults', (ctx) => {
    const mailbox = emptyOrFind(ctx.params.email ?? '');
    ctx.body = mailbox ? faultsToJson(mailbox.faults) : faultsToJson(faultsFromRequest({}));
  });

  router.get('/quota', (ctx) => {
    const mailbox = emptyOrFind(ctx.params.email ?? '');
    ctx.body = mailbox ? mailbox.quota.toJson() : { units_by_method: {}, calls_by_method: {}, total_units: 0 };
  });

  return router;
}

function hasHeaderBlock(raw: Buffer): boolean {
  const text = raw.subarray(0, 64 * 1024).toString('latin1');
  const end = text.search(/\r?\n\r?\n/);
  const head = end >= 0 ? text.slice(0, end) : text;
  return /^[!-9;-~]+:/.test(head);
}

/** Top-level headers, lower-case names → unfolded, RFC 2047-decoded values (first occurrence wins). */
export function headerMap(raw: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  const text = raw.toString('binary');
  const end = text.search(/\r?\n\r?\n/);
  const head = Buffer.from(end >= 0 ? text.slice(0, end) : text, 'binary').toString('utf8');
  for (const line of head.split(/\r?\n(?![ \t])/)) {
    if (!line.includes(':')) continue;
    const h = parseHeaderLine(line);
    const key = h.name.toLowerCase();
    if (!(key in out)) out[key] = h.value;
  }
  return out;
}

