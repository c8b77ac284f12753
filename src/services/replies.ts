import type { Knex } from 'knex';
import { Contact, MessageHistory, Reply, User } from '../db/models';
import { openColumn } from '../db/encrypted-columns';
import type { FieldCipher } from '../crypto/field-cipher';
import type { GmailClients, GmailMailbox } from '../gmail/client';
import { httpStatusOf } from '../gmail/errors';
// The reply id header is how a reply we sent is found again in Gmail (Gmail may rewrite our Message-ID).
import { buildReplyMime, replySubject, REPLY_ID_HEADER } from '../gmail/mime-build';
import { parseMail } from '../gmail/mime-parse';
import { buildPrompt, type PromptMessage } from '../ai/prompt';
import type { LlmClient } from '../ai/llm';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { AuditContext, AuditLog } from './audit';
import { touchConversation } from './conversations';
import { insertHistoryMessage } from './message-history';

export interface ReplyLimits {
  /** How long a claimed send belongs to one run (longer than a Gmail call can take). */
  sendLeaseSeconds: number;
  perContactPerDay: number;
  perThreadPerHour: number;
}

export interface RepliesDeps {
  db: Knex;
  cipher: FieldCipher;
  gmailClients: GmailClients;
  llm: LlmClient;
  audit: AuditLog;
  logger: Logger;
  metrics: Metrics;
  historyMessages: number;
  limits: ReplyLimits;
}

export type ReplyOutcome = 'sent' | 'already_done' | 'cancelled' | 'recovered';

/** Another run holds the send lease; try again once it ends. */
export class ReplyInFlightError extends Error {
  constructor(readonly retryAt: Date) {
    super('another run is sending this reply');
  }
}

/** The claim ran out of lease before the send could start (the run was too slow); a later run checks Gmail first. */
export class ReplyLeaseLostError extends Error {
  constructor() {
    super('the send lease ran out before the send');
  }
}

/** Part of the lease kept free at its end, so that a send never overlaps the next run's check of Gmail. */
function leaseMarginMs(leaseSeconds: number): number {
  return Math.min(10_000, leaseSeconds * 200);
}

const CAP_LOCK_NAMESPACE = 7342;

/**
 * A pending reply this old is queued again by the reconcile if its job is gone. Long enough for a
 * sync to finish recording its batch (its replies are queued at the end), short enough that mail
 * is answered soon after Redis lost its queues.
 */
const STUCK_PENDING_MS = 15_000;

/**
 * Answers one received mail: asks the LLM with the contact's instruction and the conversation so
 * far, sends the answer into the same Gmail thread and records it as 'sent'. A reply row moves
 * pending → sending → sent (or cancelled / failed, with the reason). 'sending' is a lease: while
 * it lasts no other run touches the reply; after it, a run first looks in Gmail for the mail
 * carrying the reply id and records it if found, so a reply is never sent twice.
 */
export function createRepliesService(deps: RepliesDeps) {
  const { db, cipher, gmailClients, llm, audit, logger, metrics, limits } = deps;

  const open = (row: MessageHistory, column: 'subject' | 'message_text') => openColumn(cipher, 'message_history', column, row.id, row[column]);

  async function cancel(reply: Reply, reason: string, at: AuditContext): Promise<ReplyOutcome> {
    await db.transaction(async (trx) => {
      await Reply.query(trx).patch({ status: 'cancelled', failure_reason: reason, lease_until: null, updated_at: new Date() }).where({ id: reply.id }).whereIn('status', ['pending', 'sending']);
      await audit({ actorType: 'system', subjectUserId: reply.user_id, action: 'reply.skipped', entityType: 'reply', entityId: reply.id, metadata: { reason } }, at, trx);
    });
    metrics.replies.inc({ outcome: 'cancelled', reason });
    logger.info({ replyId: reply.id, reason }, 'reply not sent');
    return 'cancelled';
  }

  /** Looks in the source thread for a message carrying our reply id. */
  async function findSentCopy(gmail: GmailMailbox, reply: Reply, threadId: string): Promise<{ id: string; threadId: string; internalDate: Date } | null> {
    const thread = await gmail.getThreadHeaders(threadId, [REPLY_ID_HEADER]);
    for (const message of thread.messages ?? []) {
      const header = message.payload?.headers?.find((h) => h.name?.toLowerCase() === REPLY_ID_HEADER.toLowerCase());
      if (header?.value?.trim() === reply.id && message.id) {
        return { id: message.id, threadId: message.threadId ?? threadId, internalDate: new Date(Number(message.internalDate) || Date.now()) };
      }
    }
    return null;
  }

  async function recordSent(reply: Reply, sent: { gmailId: string; threadId: string; text: string; subject: string; at: Date }, at: AuditContext): Promise<void> {
    await db.transaction(async (trx) => {
      const messageId = await insertHistoryMessage(trx, cipher, {
        userId: reply.user_id,
        contactId: reply.contact_id,
        direction: 'sent',
        text: sent.text,
        subject: sent.subject,
        timestamp: sent.at,
        gmailMessageId: sent.gmailId,
        gmailThreadId: sent.threadId,
      });
      // A contact deleted while its reply was on the way keeps its history, but its conversation
      // stays ended. FOR SHARE waits for a delete in progress (it locks the row FOR UPDATE).
      const contact = await trx('contacts').where({ id: reply.contact_id }).forShare().first('deleted_at');
      if (messageId && contact && !contact.deleted_at) await touchConversation(trx, { userId: reply.user_id, contactId: reply.contact_id, messageId, at: sent.at });
      await Reply.query(trx)
        .patch({ status: 'sent', sent_message_id: messageId, gmail_message_id: sent.gmailId, gmail_thread_id: sent.threadId, sent_at: sent.at, lease_until: null, failure_reason: null, updated_at: new Date() })
        .where({ id: reply.id });
      await audit({ actorType: 'system', subjectUserId: reply.user_id, action: 'message.sent', entityType: 'reply', entityId: reply.id, metadata: { contact_id: reply.contact_id } }, at, trx);
    });
  }

  async function recoverFromGmail(gmail: GmailMailbox, reply: Reply, source: MessageHistory, at: AuditContext): Promise<boolean> {
    const copy = await findSentCopy(gmail, reply, source.gmail_thread_id);
    if (!copy) return false;
    const message = await gmail.getRawMessage(copy.id);
    const mail = await parseMail(message.raw);
    await recordSent(reply, { gmailId: copy.id, threadId: copy.threadId, text: mail.text, subject: mail.subject, at: copy.internalDate }, at);
    metrics.replies.inc({ outcome: 'recovered', reason: 'found_in_gmail' });
    logger.info({ replyId: reply.id }, 'reply found in Gmail after an interrupted send; recorded, not resent');
    return true;
  }

  /** The cap the reply would exceed, if any: replies sent (or being sent) to the contact today, into the thread this hour. */
  async function capReached(trx: Knex | Knex.Transaction, reply: Reply, threadId: string): Promise<string | null> {
    const counted = (q: Knex.QueryBuilder, since: Date) =>
      q.where('user_id', reply.user_id).whereNot('id', reply.id).where((w) => w.where((s) => s.where('status', 'sent').where('sent_at', '>', since)).orWhere('status', 'sending'));
    const day = new Date(Date.now() - 24 * 3600_000);
    const hour = new Date(Date.now() - 3600_000);
    const count = async (q: Knex.QueryBuilder) => Number((await q.count<{ n: string }[]>({ n: '*' }))[0]?.n ?? 0);
    if ((await count(counted(trx('replies').where('contact_id', reply.contact_id), day))) >= limits.perContactPerDay) return 'cap_contact_day';
    if ((await count(counted(trx('replies').where('gmail_thread_id', threadId), hour))) >= limits.perThreadPerHour) return 'cap_thread_hour';
    return null;
  }

  /**
   * Takes the send lease, unless the reply changed meanwhile or a cap is reached (checked under a
   * per-contact lock, so concurrent replies to one contact cannot all slip under it).
   */
  async function claim(reply: Reply, threadId: string): Promise<{ leaseUntil: Date } | 'lost' | string> {
    return db.transaction(async (trx) => {
      await trx.raw('SELECT pg_advisory_xact_lock(?, hashtext(?))', [CAP_LOCK_NAMESPACE, reply.contact_id]);
      // Checked again at the claim: the contact may have been deleted or deactivated, or the
      // subscription ended, while the LLM wrote. FOR SHARE orders the claim with a contact change
      // (which locks the row FOR UPDATE and cancels only replies not yet claimed).
      const current = await trx('contacts as c')
        .join('users as u', 'u.id', 'c.user_id')
        .where('c.id', reply.contact_id)
        .forShare('c')
        .first('c.deleted_at', 'c.is_active', 'u.is_subscription_active');
      if (!current || current.deleted_at) return 'contact_deleted';
      if (!current.is_active) return 'contact_inactive';
      if (!current.is_subscription_active) return 'subscription_inactive';
      const cap = await capReached(trx, reply, threadId);
      if (cap) return cap;
      const leaseUntil = new Date(Date.now() + limits.sendLeaseSeconds * 1000);
      const claimed = await Reply.query(trx)
        .patch({ status: 'sending', attempts: reply.attempts + 1, lease_until: leaseUntil, updated_at: new Date() })
        .where({ id: reply.id, status: reply.status, attempts: reply.attempts });
      return claimed === 1 ? { leaseUntil } : 'lost';
    });
  }

  async function releaseLease(replyId: string, claimedAttempts: number): Promise<void> {
    await Reply.query(db).patch({ lease_until: new Date(), updated_at: new Date() }).where({ id: replyId, status: 'sending', attempts: claimedAttempts });
  }

  async function answer(user: User, contact: Contact, source: MessageHistory): Promise<string> {
    const earlier = await MessageHistory.query(db)
      .where({ user_id: user.id, contact_id: contact.id })
      .where('timestamp', '<=', source.timestamp)
      .orderBy([{ column: 'timestamp', order: 'desc' }, { column: 'id', order: 'desc' }])
      .limit(deps.historyMessages);
    const history: PromptMessage[] = earlier.reverse().map((m) => ({ direction: m.message_direction, subject: open(m, 'subject'), text: open(m, 'message_text') }));
    const started = process.hrtime.bigint();
    try {
      const text = await llm.complete(
        buildPrompt({
          userName: user.name,
          contactName: openColumn(cipher, 'contacts', 'name', contact.id, contact.name),
          instruction: openColumn(cipher, 'contacts', 'description_ai', contact.id, contact.description_ai),
          history,
        }),
      );
      metrics.llmDuration.observe({ outcome: 'ok' }, Number(process.hrtime.bigint() - started) / 1e9);
      return text;
    } catch (err) {
      metrics.llmDuration.observe({ outcome: 'failed' }, Number(process.hrtime.bigint() - started) / 1e9);
      throw err;
    }
  }

  return {
    async processReply(replyId: string, at: AuditContext): Promise<ReplyOutcome> {
      const reply = await Reply.query(db).findById(replyId);
      if (!reply || !['pending', 'sending'].includes(reply.status)) return 'already_done';
      if (reply.status === 'sending' && reply.lease_until && reply.lease_until.getTime() > Date.now()) throw new ReplyInFlightError(reply.lease_until);
      const [user, contact, source] = await Promise.all([
        User.query(db).findById(reply.user_id),
        Contact.query(db).findById(reply.contact_id),
        MessageHistory.query(db).findById(reply.source_message_id),
      ]);
      if (!user || !contact || !source) return cancel(reply, 'source_gone', at);

      const gmail = await gmailClients.forUser(user.id);
      // An earlier run claimed the send and its lease ran out: it may have sent before it died.
      if (reply.status === 'sending' && (await recoverFromGmail(gmail, reply, source, at))) return 'recovered';

      if (contact.deleted_at) return cancel(reply, 'contact_deleted', at);
      if (!contact.is_active) return cancel(reply, 'contact_inactive', at);
      if (!user.is_subscription_active) return cancel(reply, 'subscription_inactive', at);
      const conversation = await db('active_conversations').where({ user_id: user.id, contact_id: contact.id }).first('paused_until');
      if (conversation?.paused_until && (conversation.paused_until as Date).getTime() > Date.now()) return cancel(reply, 'conversation_paused', at);
      // Checked before paying for the LLM too; the claim checks again under a lock.
      const capBefore = await capReached(db, reply, source.gmail_thread_id);
      if (capBefore) return cancel(reply, capBefore, at);

      const text = await answer(user, contact, source);

      // Everything slow happens before the claim: from the claim on, the run races its lease.
      const subject = replySubject(open(source, 'subject'));
      const raw = await buildReplyMime({
        from: { address: user.email, name: user.name },
        // The answer goes to the sender only: never to Cc, Reply-To or addresses named in the mail.
        to: { address: openColumn(cipher, 'contacts', 'email', contact.id, contact.email), name: openColumn(cipher, 'contacts', 'name', contact.id, contact.name) },
        subject: open(source, 'subject'),
        inReplyTo: source.rfc822_message_id,
        references: source.rfc822_references,
        text,
        replyId: reply.id,
      });

      const claimed = await claim(reply, source.gmail_thread_id);
      if (claimed === 'lost') return 'already_done';
      if (typeof claimed === 'string') return cancel(reply, claimed, at);

      // After the lease another run may look for this reply in Gmail and send it: this run sends
      // only well inside its lease, and gives up on the send before the lease ends.
      const sendWindowMs = claimed.leaseUntil.getTime() - Date.now() - leaseMarginMs(limits.sendLeaseSeconds);
      if (sendWindowMs <= 0) throw new ReplyLeaseLostError();
      let sent;
      try {
        sent = await gmail.send(raw, source.gmail_thread_id, { timeoutMs: sendWindowMs });
      } catch (err) {
        // Gmail answered (an error): nothing of this send is in flight any more, so the next run
        // may look for the mail in Gmail at once instead of waiting out the lease. Without an
        // answer (a timeout, a lost connection) the send may still land: the lease stays.
        if (httpStatusOf(err) !== undefined) await releaseLease(reply.id, reply.attempts + 1);
        throw err;
      }
      await recordSent(reply, { gmailId: sent.id, threadId: sent.threadId, text, subject, at: new Date() }, at);
      metrics.replies.inc({ outcome: 'sent', reason: 'none' });
      logger.info({ replyId: reply.id, userId: user.id }, 'reply sent');
      return 'sent';
    },

    /** After the last attempt: the reply is marked failed with the reason (and audited), never dropped silently. */
    async markFailed(replyId: string, reason: string, at: AuditContext): Promise<boolean> {
      const changed = await db.transaction(async (trx) => {
        const rows = await trx('replies')
          .where({ id: replyId })
          .whereIn('status', ['pending', 'sending'])
          .update({ status: 'failed', failure_reason: reason, lease_until: null, updated_at: new Date() })
          .returning('user_id');
        const row = rows[0] as { user_id: string } | undefined;
        if (row) await audit({ actorType: 'system', subjectUserId: row.user_id, action: 'reply.failed', entityType: 'reply', entityId: replyId, metadata: { reason } }, at, trx);
        return Boolean(row);
      });
      if (changed) {
        metrics.replies.inc({ outcome: 'failed', reason });
        logger.warn({ replyId, reason }, 'reply failed for good');
      }
      return changed;
    },

    /**
     * Replies that wait without anyone working on them: pending for a while (the job was lost with
     * Redis, or the process died between recording the mail and queueing), or 'sending' past the
     * lease (the run died mid-send).
     */
    async stuckReplyIds(olderThanMs = STUCK_PENDING_MS, max = 1000): Promise<string[]> {
      const before = new Date(Date.now() - olderThanMs);
      return db('replies')
        .where((q) => q.where('status', 'pending').where('updated_at', '<', before))
        .orWhere((q) => q.where('status', 'sending').where('lease_until', '<', new Date()))
        .orderBy('updated_at')
        .limit(max)
        .pluck('id');
    },

    /** After the user signed in again: replies that failed only because Gmail access was revoked. */
    async retryAfterReconsent(userId: string): Promise<string[]> {
      return db('replies')
        .where({ user_id: userId, status: 'failed', failure_reason: 'gmail_needs_reconsent' })
        .where('updated_at', '>', new Date(Date.now() - 3 * 24 * 3600_000))
        .update({ status: 'pending', failure_reason: null, updated_at: new Date() })
        .returning('id')
        .then((rows: Array<{ id: string }>) => rows.map((r) => r.id));
    },
  };
}

export type RepliesService = ReturnType<typeof createRepliesService>;
