import type { Knex } from 'knex';
import { Contact, GmailConnection, User } from '../db/models';
import { newId } from '../db/ids';
import { sealColumns } from '../db/encrypted-columns';
import type { FieldCipher } from '../crypto/field-cipher';
import { normalizeEmail, type BlindIndex } from '../crypto/blind-index';
import type { Gmail, GmailClients } from '../gmail/client';
import { parseMail, type ParsedMail } from '../gmail/mime-parse';
import { detectAutomatedMail } from '../gmail/automated-mail';
import type { JobProducer } from '../jobs/queues';
import type { Logger } from '../observability/logger';
import type { AuditContext, AuditLog } from './audit';
import { touchConversation } from './conversations';

export interface MailboxSyncDeps {
  db: Knex;
  cipher: FieldCipher;
  blindIndex: BlindIndex;
  gmailClients: GmailClients;
  jobs: JobProducer;
  audit: AuditLog;
  logger: Logger;
}

export interface SyncResult {
  listed: number;
  recorded: number;
  repliesQueued: number;
  ignored: number;
  cursor: string | null;
}

/** Labels of mail that is never an incoming message from a contact. */
const NOT_INCOMING = new Set(['SENT', 'DRAFT', 'SPAM', 'TRASH', 'CHAT']);

interface ListedMessage {
  id: string;
  threadId: string;
}

function gmailStatus(err: unknown): number | undefined {
  const e = err as { status?: number; code?: number | string; response?: { status?: number } };
  return e.response?.status ?? e.status ?? (typeof e.code === 'number' ? e.code : undefined);
}

export class HistoryExpiredError extends Error {}

/**
 * Walks the Gmail history of one mailbox from the stored cursor, records every new mail from a live
 * contact exactly once as 'received', refreshes the conversation and queues a reply when the
 * contact and the subscription are active. The cursor moves forward only after all the messages it
 * covers are recorded, so a crash means the next run does the same work again, idempotently.
 */
export function createMailboxSyncService(deps: MailboxSyncDeps) {
  const { db, cipher, blindIndex, gmailClients, jobs, audit, logger } = deps;

  async function listNewMessages(gmail: Gmail, cursor: string): Promise<{ messages: ListedMessage[]; historyId: string }> {
    const seen = new Set<string>();
    const messages: ListedMessage[] = [];
    let pageToken: string | undefined;
    let historyId = cursor;
    do {
      let data;
      try {
        ({ data } = await gmail.users.history.list({ userId: 'me', startHistoryId: cursor, historyTypes: ['messageAdded'], maxResults: 500, pageToken }));
      } catch (err) {
        if (gmailStatus(err) === 404) throw new HistoryExpiredError(`history ${cursor} is no longer available`);
        throw err;
      }
      for (const record of data.history ?? []) {
        for (const added of record.messagesAdded ?? []) {
          const m = added.message;
          if (!m?.id || seen.has(m.id)) continue;
          seen.add(m.id);
          if ((m.labelIds ?? []).some((l) => NOT_INCOMING.has(l))) continue;
          messages.push({ id: m.id, threadId: m.threadId ?? m.id });
        }
      }
      if (data.historyId) historyId = String(data.historyId);
      pageToken = data.nextPageToken ?? undefined;
    } while (pageToken);
    return { messages, historyId };
  }

  async function alreadyRecorded(userId: string, ids: string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await db('message_history').where('user_id', userId).whereIn('gmail_message_id', ids).select('gmail_message_id');
    return new Set(rows.map((r: { gmail_message_id: string }) => r.gmail_message_id));
  }

  async function fetchParsed(gmail: Gmail, id: string): Promise<{ mail: ParsedMail; internalDate: Date; threadId: string } | null> {
    try {
      const { data } = await gmail.users.messages.get({ userId: 'me', id, format: 'raw' });
      const raw = Buffer.from(data.raw ?? '', 'base64url');
      const internal = Number(data.internalDate);
      return { mail: await parseMail(raw), internalDate: Number.isFinite(internal) ? new Date(internal) : new Date(), threadId: data.threadId ?? id };
    } catch (err) {
      // Listed but gone (deleted between the notification and now): nothing to answer.
      if (gmailStatus(err) === 404) return null;
      throw err;
    }
  }

  async function recordIncoming(user: User, contact: Contact, gmailId: string, fetched: { mail: ParsedMail; internalDate: Date; threadId: string }, at: AuditContext): Promise<'recorded' | 'replying' | 'duplicate'> {
    const { mail } = fetched;
    const automated = detectAutomatedMail(mail);
    const replyId = await db.transaction(async (trx) => {
      const id = newId();
      const inserted = await trx('message_history')
        .insert({
          id,
          user_id: user.id,
          contact_id: contact.id,
          message_direction: 'received',
          ...sealColumns(cipher, 'message_history', id, { message_text: mail.text, subject: mail.subject }),
          timestamp: fetched.internalDate,
          gmail_message_id: gmailId,
          gmail_thread_id: fetched.threadId,
          rfc822_message_id: mail.messageId,
          rfc822_references: mail.references,
        })
        .onConflict(['user_id', 'gmail_message_id'])
        .ignore()
        .returning('id');
      if (inserted.length === 0) return 'duplicate' as const;
      await touchConversation(trx, { userId: user.id, contactId: contact.id, messageId: id, at: fetched.internalDate });
      await audit({ actorType: 'system', subjectUserId: user.id, action: 'message.received', entityType: 'message', entityId: id, metadata: { contact_id: contact.id } }, at, trx);

      const skipReason = automated.automated
        ? `automated:${automated.reason}`
        : !contact.is_active
          ? 'contact_inactive'
          : !user.is_subscription_active
            ? 'subscription_inactive'
            : null;
      if (skipReason) {
        await audit({ actorType: 'system', subjectUserId: user.id, action: 'reply.skipped', entityType: 'message', entityId: id, metadata: { reason: skipReason } }, at, trx);
        logger.info({ userId: user.id, messageId: id, reason: skipReason }, 'no reply');
        return null;
      }
      const reply = newId();
      await trx('replies').insert({ id: reply, user_id: user.id, contact_id: contact.id, source_message_id: id, status: 'pending' });
      return reply;
    });
    if (replyId === 'duplicate') return 'duplicate';
    if (!replyId) return 'recorded';
    await jobs.enqueueReply({ replyId, requestId: at.requestId });
    return 'replying';
  }

  return {
    async syncMailbox(userId: string, at: AuditContext): Promise<SyncResult> {
      const result: SyncResult = { listed: 0, recorded: 0, repliesQueued: 0, ignored: 0, cursor: null };
      const user = await User.query(db).findById(userId);
      const connection = await GmailConnection.query(db).findById(userId);
      if (!user || !connection || connection.status !== 'ok') return result;
      const gmail = await gmailClients.forUser(userId);

      if (!connection.history_id) {
        const { data } = await gmail.users.getProfile({ userId: 'me' });
        await db('gmail_connections').where({ user_id: userId }).update({ history_id: String(data.historyId), updated_at: new Date() });
        result.cursor = String(data.historyId);
        return result;
      }

      let listing;
      try {
        listing = await listNewMessages(gmail, connection.history_id);
      } catch (err) {
        if (!(err instanceof HistoryExpiredError)) throw err;
        // Bounded resync comes with the pipeline hardening; for now start again from Gmail's present.
        const { data } = await gmail.users.getProfile({ userId: 'me' });
        logger.warn({ userId, event: 'history_expired' }, 'gmail history expired; cursor reset to the current historyId');
        await db('gmail_connections').where({ user_id: userId }).update({ history_id: String(data.historyId), updated_at: new Date() });
        result.cursor = String(data.historyId);
        return result;
      }
      result.listed = listing.messages.length;
      const recorded = await alreadyRecorded(userId, listing.messages.map((m) => m.id));
      const userAddress = normalizeEmail(user.email);

      for (const listed of listing.messages) {
        if (recorded.has(listed.id)) continue;
        const fetched = await fetchParsed(gmail, listed.id);
        const sender = fetched?.mail.from?.address;
        if (!fetched || !sender || normalizeEmail(sender) === userAddress) {
          result.ignored += 1;
          continue;
        }
        const contact = await Contact.query(db).where({ user_id: userId, email_hash: blindIndex.ofEmail(sender) }).whereNull('deleted_at').first();
        if (!contact) {
          result.ignored += 1;
          continue;
        }
        const outcome = await recordIncoming(user, contact, listed.id, fetched, at);
        if (outcome !== 'duplicate') result.recorded += 1;
        if (outcome === 'replying') result.repliesQueued += 1;
      }

      // Forward only: a slower concurrent run can never move the cursor back.
      await db('gmail_connections')
        .where({ user_id: userId })
        .update({ history_id: db.raw('GREATEST(COALESCE(history_id, 0), ?::numeric)', [listing.historyId]), updated_at: new Date() });
      result.cursor = listing.historyId;
      return result;
    },
  };
}

export type MailboxSyncService = ReturnType<typeof createMailboxSyncService>;
