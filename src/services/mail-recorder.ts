import type { Knex } from 'knex';
import { Contact, type User } from '../db/models';
import { newId } from '../db/ids';
import type { FieldCipher } from '../crypto/field-cipher';
import { normalizeEmail, type BlindIndex } from '../crypto/blind-index';
import type { RawMessage } from '../gmail/client';
import type { ParsedMail } from '../gmail/mime-parse';
import { REPLY_ID_HEADER } from '../gmail/mime-build';
import { detectAutomatedMail } from '../gmail/automated-mail';
import type { Logger } from '../observability/logger';
import type { AuditContext, AuditLog } from './audit';
import { touchConversation } from './conversations';
import { insertHistoryMessage } from './message-history';

export interface MailRecorderDeps {
  db: Knex;
  cipher: FieldCipher;
  blindIndex: BlindIndex;
  audit: AuditLog;
  logger: Logger;
  /** How long the assistant stays out of a conversation after the user wrote in it by hand. */
  manualReplyPauseMinutes: number;
}

export type RecordOutcome =
  | { kind: 'reply_pending'; replyId: string }
  | { kind: 'recorded' }
  | { kind: 'duplicate' }
  | { kind: 'ignored'; reason: 'no_sender' | 'from_user' | 'not_a_contact' | 'our_reply' };

/**
 * Records one Gmail message in the history, exactly once (unique per user and Gmail message id):
 * mail a contact sent the user as 'received' (with, in the same transaction, the reply it is owed,
 * or the reason it gets none), and mail the user wrote to a contact by hand as 'sent' (which pauses
 * the assistant in that conversation). Everything else is left alone.
 */
export function createMailRecorder(deps: MailRecorderDeps) {
  const { db, cipher, blindIndex, audit, logger } = deps;

  async function liveContact(userId: string, address: string, trx?: Knex.Transaction): Promise<Contact | undefined> {
    return Contact.query(trx ?? db).where({ user_id: userId, email_hash: blindIndex.ofEmail(address) }).whereNull('deleted_at').first();
  }

  const insertMessage = (trx: Knex.Transaction, row: { userId: string; contactId: string; direction: 'sent' | 'received'; message: RawMessage; mail: ParsedMail }) =>
    insertHistoryMessage(trx, cipher, {
      userId: row.userId,
      contactId: row.contactId,
      direction: row.direction,
      text: row.mail.text,
      subject: row.mail.subject,
      timestamp: row.message.internalDate,
      gmailMessageId: row.message.id,
      gmailThreadId: row.message.threadId,
      rfc822MessageId: row.mail.messageId,
      rfc822References: row.mail.references,
    });

  async function pausedUntil(trx: Knex.Transaction, userId: string, contactId: string): Promise<Date | null> {
    const row = await trx('active_conversations').where({ user_id: userId, contact_id: contactId }).first('paused_until');
    return (row?.paused_until as Date | null | undefined) ?? null;
  }

  /** Why a received mail gets no reply, or null when it gets one. */
  async function skipReason(trx: Knex.Transaction, user: User, contact: Contact, mail: ParsedMail, at: Date): Promise<string | null> {
    const automated = detectAutomatedMail(mail);
    if (automated.automated) return `automated:${automated.reason}`;
    if (!contact.is_active) return 'contact_inactive';
    if (!user.is_subscription_active) return 'subscription_inactive';
    const paused = await pausedUntil(trx, user.id, contact.id);
    if (paused && paused > at) return 'conversation_paused';
    return null;
  }

  return {
    async recordIncoming(user: User, message: RawMessage, mail: ParsedMail, at: AuditContext): Promise<RecordOutcome> {
      const sender = mail.from?.address;
      if (!sender) return { kind: 'ignored', reason: 'no_sender' };
      if (normalizeEmail(sender) === normalizeEmail(user.email)) return { kind: 'ignored', reason: 'from_user' };
      const contact = await liveContact(user.id, sender);
      if (!contact) return { kind: 'ignored', reason: 'not_a_contact' };

      return db.transaction(async (trx): Promise<RecordOutcome> => {
        const id = await insertMessage(trx, { userId: user.id, contactId: contact.id, direction: 'received', message, mail });
        if (!id) return { kind: 'duplicate' };
        await touchConversation(trx, { userId: user.id, contactId: contact.id, messageId: id, at: message.internalDate });
        await audit({ actorType: 'system', subjectUserId: user.id, action: 'message.received', entityType: 'message', entityId: id, metadata: { contact_id: contact.id } }, at, trx);

        const reason = await skipReason(trx, user, contact, mail, new Date());
        if (reason) {
          await audit({ actorType: 'system', subjectUserId: user.id, action: 'reply.skipped', entityType: 'message', entityId: id, metadata: { reason } }, at, trx);
          logger.info({ userId: user.id, messageId: id, reason }, 'no reply');
          return { kind: 'recorded' };
        }
        const replyId = newId();
        await trx('replies').insert({ id: replyId, user_id: user.id, contact_id: contact.id, source_message_id: id, gmail_thread_id: message.threadId, status: 'pending' });
        return { kind: 'reply_pending', replyId };
      });
    },

    async recordSentByUser(user: User, message: RawMessage, mail: ParsedMail, at: AuditContext): Promise<RecordOutcome> {
      // Our own replies carry our header: the reply job records them.
      if (mail.header(REPLY_ID_HEADER).length > 0) return { kind: 'ignored', reason: 'our_reply' };
      const contacts: Contact[] = [];
      for (const recipient of [...mail.to, ...mail.cc]) {
        if (!recipient.address || normalizeEmail(recipient.address) === normalizeEmail(user.email)) continue;
        const contact = await liveContact(user.id, recipient.address);
        if (contact && !contacts.some((c) => c.id === contact.id)) contacts.push(contact);
      }
      const [first] = contacts;
      if (!first) return { kind: 'ignored', reason: 'not_a_contact' };

      const pauseUntil = new Date(message.internalDate.getTime() + deps.manualReplyPauseMinutes * 60_000);
      return db.transaction(async (trx): Promise<RecordOutcome> => {
        const id = await insertMessage(trx, { userId: user.id, contactId: first.id, direction: 'sent', message, mail });
        if (!id) return { kind: 'duplicate' };
        await touchConversation(trx, { userId: user.id, contactId: first.id, messageId: id, at: message.internalDate });
        await audit({ actorType: 'user', actorUserId: user.id, action: 'message.sent_by_user', entityType: 'message', entityId: id, metadata: { contact_id: first.id } }, at, trx);
        const contactIds = contacts.map((c) => c.id);
        if (deps.manualReplyPauseMinutes > 0) {
          for (const contactId of contactIds) {
            await trx.raw(
              `INSERT INTO active_conversations (id, user_id, contact_id, last_interaction_at, paused_until) VALUES (?, ?, ?, ?, ?)
               ON CONFLICT (user_id, contact_id) DO UPDATE
                 SET paused_until = GREATEST(COALESCE(active_conversations.paused_until, EXCLUDED.paused_until), EXCLUDED.paused_until)`,
              [newId(), user.id, contactId, message.internalDate, pauseUntil],
            );
            await audit({ actorType: 'system', subjectUserId: user.id, action: 'conversation.paused', entityType: 'contact', entityId: contactId, metadata: { until: pauseUntil.toISOString() } }, at, trx);
          }
        }
        // The user answered by hand: what the assistant had not sent yet is no longer wanted.
        const cancelled = await trx('replies')
          .whereIn('contact_id', contactIds)
          .where({ user_id: user.id, status: 'pending' })
          .update({ status: 'cancelled', failure_reason: 'user_replied_by_hand', updated_at: new Date() })
          .returning('id');
        for (const row of cancelled as Array<{ id: string }>) {
          await audit({ actorType: 'system', subjectUserId: user.id, action: 'reply.skipped', entityType: 'reply', entityId: row.id, metadata: { reason: 'user_replied_by_hand' } }, at, trx);
        }
        logger.info({ userId: user.id, messageId: id, contacts: contactIds.length, cancelled: cancelled.length }, 'mail written by the user recorded; assistant paused');
        return { kind: 'recorded' };
      });
    },
  };
}

export type MailRecorder = ReturnType<typeof createMailRecorder>;
