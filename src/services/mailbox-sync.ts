import type { Knex } from 'knex';
import { GmailConnection, User } from '../db/models';
import type { GmailClients, GmailMailbox, RawMessage } from '../gmail/client';
import { httpStatusOf } from '../gmail/errors';
import { parseMail, type ParsedMail } from '../gmail/mime-parse';
import type { JobProducer } from '../jobs/queues';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { AuditContext } from './audit';
import type { MailRecorder, RecordOutcome } from './mail-recorder';

export interface MailboxSyncDeps {
  db: Knex;
  gmailClients: GmailClients;
  recorder: MailRecorder;
  jobs: JobProducer;
  logger: Logger;
  metrics: Metrics;
  /** At most this many inbox messages are read again after the history expired. */
  resyncMaxMessages: number;
  /** Waits before each new try of a messages.get that answered 404 (Gmail can list a message before it serves it). */
  missingMessageRetryDelaysMs?: number[];
}

export interface SyncResult {
  mode: 'skipped' | 'initial' | 'history' | 'resync';
  listed: number;
  recorded: number;
  repliesQueued: number;
  ignored: number;
  gone: number;
  cursor: string | null;
}

/** Labels of mail that is neither from a contact nor written by the user to one. */
const NEVER_PROCESSED = new Set(['DRAFT', 'SPAM', 'TRASH', 'CHAT']);

interface ListedMessage {
  id: string;
  labelIds: string[] | null;
}

/** history.list answered 404: Gmail no longer keeps the history since the cursor. */
class HistoryExpiredError extends Error {}
/** The cursor is beyond the mailbox's present historyId (the mailbox was recreated): it cannot be trusted. */
class CursorAheadError extends Error {}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Brings one mailbox up to date: walks the Gmail history from the stored cursor (or, when Gmail
 * no longer has it, reads the inbox again since the last processed mail), records each new mail
 * from or to a live contact exactly once, queues the replies owed, and only then moves the cursor
 * forward. A crash anywhere means the next run does the same work again, idempotently.
 */
export function createMailboxSyncService(deps: MailboxSyncDeps) {
  const { db, gmailClients, recorder, jobs, logger, metrics } = deps;
  const retryDelays = deps.missingMessageRetryDelaysMs ?? [300, 1000];

  async function listHistory(gmail: GmailMailbox, cursor: string): Promise<{ messages: ListedMessage[]; historyId: string }> {
    const seen = new Set<string>();
    const messages: ListedMessage[] = [];
    let pageToken: string | undefined;
    let historyId = cursor;
    do {
      let page;
      try {
        page = await gmail.listHistory(cursor, pageToken);
      } catch (err) {
        if (httpStatusOf(err) === 404) throw new HistoryExpiredError();
        throw err;
      }
      for (const record of page.history ?? []) {
        for (const added of record.messagesAdded ?? []) {
          const m = added.message;
          if (!m?.id || seen.has(m.id)) continue;
          seen.add(m.id);
          const labels = m.labelIds ?? [];
          if (labels.some((l) => NEVER_PROCESSED.has(l))) continue;
          messages.push({ id: m.id, labelIds: labels });
        }
      }
      if (page.historyId) {
        historyId = String(page.historyId);
        if (BigInt(historyId) < BigInt(cursor)) throw new CursorAheadError();
      }
      pageToken = page.nextPageToken ?? undefined;
    } while (pageToken);
    return { messages, historyId };
  }

  /** The inbox since `since` (to the second; earlier mail is skipped after the fetch), oldest first, at most resyncMaxMessages. */
  async function listInboxSince(gmail: GmailMailbox, since: Date): Promise<ListedMessage[]> {
    const q = `in:inbox after:${Math.max(0, Math.floor(since.getTime() / 1000) - 1)}`;
    const ids: string[] = [];
    let pageToken: string | undefined;
    do {
      const page = await gmail.listMessages(q, pageToken, Math.min(500, deps.resyncMaxMessages));
      for (const m of page.messages ?? []) if (m.id && ids.length < deps.resyncMaxMessages) ids.push(m.id);
      pageToken = page.nextPageToken ?? undefined;
    } while (pageToken && ids.length < deps.resyncMaxMessages);
    return ids.reverse().map((id) => ({ id, labelIds: null }));
  }

  async function alreadyKnown(userId: string, ids: string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const [recorded, replies] = await Promise.all([
      db('message_history').where('user_id', userId).whereIn('gmail_message_id', ids).pluck('gmail_message_id'),
      db('replies').where('user_id', userId).whereIn('gmail_message_id', ids).pluck('gmail_message_id'),
    ]);
    return new Set<string>([...recorded, ...replies]);
  }

  /** messages.get, tried again briefly on 404; null when the message stays gone (deleted meanwhile). */
  async function fetchMessage(gmail: GmailMailbox, id: string): Promise<RawMessage | null> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await gmail.getRawMessage(id);
      } catch (err) {
        if (httpStatusOf(err) !== 404) throw err;
        const delay = retryDelays[attempt];
        if (delay === undefined) return null;
        await sleep(delay);
      }
    }
  }

  /** `notBefore`: mail up to this instant was covered by an earlier sync (its history walk came later) and is left alone. */
  async function processMessages(user: User, gmail: GmailMailbox, listed: ListedMessage[], at: AuditContext, result: SyncResult, notBefore?: Date): Promise<void> {
    const known = await alreadyKnown(user.id, listed.map((m) => m.id));
    const replies: string[] = [];
    for (const item of listed) {
      if (known.has(item.id)) continue;
      const message = await fetchMessage(gmail, item.id);
      if (!message) {
        result.gone += 1;
        metrics.messagesSkipped.inc({ reason: 'gone' });
        logger.warn({ userId: user.id, gmailMessageId: item.id }, 'listed message not found in Gmail; skipped');
        continue;
      }
      const labels = item.labelIds ?? message.labelIds;
      if (labels.some((l) => NEVER_PROCESSED.has(l)) || (notBefore && message.internalDate <= notBefore)) {
        result.ignored += 1;
        continue;
      }
      let mail: ParsedMail;
      try {
        mail = await parseMail(message.raw);
      } catch (err) {
        result.ignored += 1;
        logger.warn({ userId: user.id, gmailMessageId: item.id, err: { name: (err as Error).name } }, 'message could not be parsed; skipped');
        continue;
      }
      const outcome: RecordOutcome = labels.includes('SENT')
        ? await recorder.recordSentByUser(user, message, mail, at)
        : await recorder.recordIncoming(user, message, mail, at);
      if (outcome.kind === 'ignored') result.ignored += 1;
      if (outcome.kind === 'recorded' || outcome.kind === 'reply_pending') result.recorded += 1;
      if (outcome.kind === 'reply_pending') replies.push(outcome.replyId);
    }
    // Queued once the whole batch is recorded, so mail the user answered by hand in the same batch
    // has its pending reply cancelled first.
    for (const replyId of replies) await jobs.enqueueReply({ replyId, requestId: at.requestId });
    result.repliesQueued += replies.length;
    // Mail listed again because an earlier run died between recording it and queueing its reply:
    // queue those replies now (a no-op for a reply whose job still exists).
    for (const replyId of await pendingRepliesOf(user.id, [...known])) {
      if (await jobs.requeueReply(replyId)) result.repliesQueued += 1;
    }
  }

  async function pendingRepliesOf(userId: string, gmailMessageIds: string[]): Promise<string[]> {
    if (gmailMessageIds.length === 0) return [];
    return db('replies as r')
      .join('message_history as m', 'm.id', 'r.source_message_id')
      .where({ 'r.user_id': userId, 'r.status': 'pending' })
      .whereIn('m.gmail_message_id', gmailMessageIds)
      .pluck('r.id');
  }

  /**
   * Moves the cursor forward only (a slower concurrent run can never move it back), or, with
   * `reset`, sets it (the stored cursor was beyond the mailbox's present one). `syncedFrom` is when
   * this sync began: mail older than that is covered by it, which bounds a later resync.
   */
  async function saveCursor(userId: string, historyId: string, syncedFrom: Date, reset = false): Promise<void> {
    await db('gmail_connections')
      .where({ user_id: userId })
      .update({
        history_id: reset ? historyId : db.raw('GREATEST(COALESCE(history_id, 0), ?::numeric)', [historyId]),
        last_synced_at: db.raw('GREATEST(COALESCE(last_synced_at, ?::timestamptz), ?::timestamptz)', [syncedFrom, syncedFrom]),
        updated_at: new Date(),
      });
  }

  return {
    async syncMailbox(userId: string, at: AuditContext): Promise<SyncResult> {
      const startedAt = new Date();
      const result: SyncResult = { mode: 'skipped', listed: 0, recorded: 0, repliesQueued: 0, ignored: 0, gone: 0, cursor: null };
      const [user, connection] = await Promise.all([User.query(db).findById(userId), GmailConnection.query(db).findById(userId)]);
      if (!user || !connection || connection.status !== 'ok') return result;
      const gmail = await gmailClients.forUser(userId);

      if (!connection.history_id) {
        const { historyId } = await gmail.getProfile();
        await saveCursor(userId, historyId, startedAt);
        return { ...result, mode: 'initial', cursor: historyId };
      }

      let cursorAhead = false;
      try {
        const listing = await listHistory(gmail, connection.history_id);
        result.mode = 'history';
        result.listed = listing.messages.length;
        await processMessages(user, gmail, listing.messages, at, result);
        await saveCursor(userId, listing.historyId, startedAt);
        result.cursor = listing.historyId;
        return result;
      } catch (err) {
        if (err instanceof CursorAheadError) cursorAhead = true;
        else if (!(err instanceof HistoryExpiredError)) throw err;
      }

      // The history since the cursor is gone (or the cursor cannot be trusted). Take the present
      // historyId first, so that mail arriving during the resync is in the history walked next
      // time; then read the inbox since the last sync began, and skip what is recorded already.
      const { historyId } = await gmail.getProfile();
      const since = connection.last_synced_at ?? connection.created_at;
      metrics.historyResyncs.inc();
      logger.warn({ userId, event: cursorAhead ? 'cursor_ahead' : 'history_expired', since: since.toISOString() }, 'gmail history unusable: resyncing the inbox since the last sync');
      const listed = await listInboxSince(gmail, since);
      result.mode = 'resync';
      result.listed = listed.length;
      await processMessages(user, gmail, listed, at, result, since);
      await saveCursor(userId, historyId, startedAt, cursorAhead);
      result.cursor = historyId;
      return result;
    },

    /** Mailboxes the periodic reconcile syncs. */
    async connectedUserIds(): Promise<string[]> {
      return db('gmail_connections').where({ status: 'ok' }).whereNotNull('history_id').pluck('user_id');
    },
  };
}

export type MailboxSyncService = ReturnType<typeof createMailboxSyncService>;
