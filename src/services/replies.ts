import type { Knex } from 'knex';
import { Contact, MessageHistory, Reply, User } from '../db/models';
import { newId } from '../db/ids';
import { openColumn, sealColumns } from '../db/encrypted-columns';
import type { FieldCipher } from '../crypto/field-cipher';
import type { Gmail, GmailClients } from '../gmail/client';
// The reply id header is how a reply we sent is found again in Gmail (Gmail may rewrite our Message-ID).
import { buildReplyMime, replySubject, REPLY_ID_HEADER } from '../gmail/mime-build';
import { parseMail } from '../gmail/mime-parse';
import { buildPrompt, type PromptMessage } from '../ai/prompt';
import type { LlmClient } from '../ai/llm';
import type { Logger } from '../observability/logger';
import type { AuditContext, AuditLog } from './audit';
import { touchConversation } from './conversations';

export interface RepliesDeps {
  db: Knex;
  cipher: FieldCipher;
  gmailClients: GmailClients;
  llm: LlmClient;
  audit: AuditLog;
  logger: Logger;
  historyMessages: number;
}

export type ReplyOutcome = 'sent' | 'already_done' | 'cancelled' | 'recovered';


/**
 * Answers one received mail: asks the LLM with the contact's instruction and the conversation so
 * far, sends the answer into the same Gmail thread and records it as 'sent'. A reply row moves
 * pending → sending → sent; a run that finds it 'sending' (an earlier run died mid-send) first
 * looks for it in Gmail and never sends a second copy of something Gmail already has.
 */
export function createRepliesService(deps: RepliesDeps) {
  const { db, cipher, gmailClients, llm, audit, logger } = deps;

  const open = (row: MessageHistory, column: 'subject' | 'message_text') => openColumn(cipher, 'message_history', column, row.id, row[column]);

  async function cancel(reply: Reply, reason: string, at: AuditContext): Promise<ReplyOutcome> {
    await db.transaction(async (trx) => {
      await Reply.query(trx).patch({ status: 'cancelled', failure_reason: reason, updated_at: new Date() }).where({ id: reply.id }).whereIn('status', ['pending', 'sending']);
      await audit({ actorType: 'system', subjectUserId: reply.user_id, action: 'reply.skipped', entityType: 'reply', entityId: reply.id, metadata: { reason } }, at, trx);
    });
    logger.info({ replyId: reply.id, reason }, 'reply cancelled');
    return 'cancelled';
  }

  /** Looks in the source thread for a message carrying our reply id. */
  async function findSentCopy(gmail: Gmail, reply: Reply, threadId: string): Promise<{ id: string; threadId: string; internalDate: Date } | null> {
    const { data } = await gmail.users.threads.get({ userId: 'me', id: threadId, format: 'metadata', metadataHeaders: [REPLY_ID_HEADER] });
    for (const message of data.messages ?? []) {
      const header = message.payload?.headers?.find((h) => h.name?.toLowerCase() === REPLY_ID_HEADER.toLowerCase());
      if (header?.value?.trim() === reply.id && message.id) {
        return { id: message.id, threadId: message.threadId ?? threadId, internalDate: new Date(Number(message.internalDate) || Date.now()) };
      }
    }
    return null;
  }

  async function recordSent(reply: Reply, sent: { gmailId: string; threadId: string; text: string; subject: string; at: Date }, at: AuditContext): Promise<void> {
    await db.transaction(async (trx) => {
      const id = newId();
      const inserted = await trx('message_history')
        .insert({
          id,
          user_id: reply.user_id,
          contact_id: reply.contact_id,
          message_direction: 'sent',
          ...sealColumns(cipher, 'message_history', id, { message_text: sent.text, subject: sent.subject }),
          timestamp: sent.at,
          gmail_message_id: sent.gmailId,
          gmail_thread_id: sent.threadId,
        })
        .onConflict(['user_id', 'gmail_message_id'])
        .ignore()
        .returning('id');
      const messageId = (inserted[0] as { id: string } | undefined)?.id ?? null;
      if (messageId) await touchConversation(trx, { userId: reply.user_id, contactId: reply.contact_id, messageId, at: sent.at });
      await Reply.query(trx)
        .patch({ status: 'sent', sent_message_id: messageId, gmail_message_id: sent.gmailId, failure_reason: null, updated_at: new Date() })
        .where({ id: reply.id });
      await audit({ actorType: 'system', subjectUserId: reply.user_id, action: 'message.sent', entityType: 'reply', entityId: reply.id, metadata: { contact_id: reply.contact_id } }, at, trx);
    });
  }

  async function recoverFromGmail(gmail: Gmail, reply: Reply, source: MessageHistory, at: AuditContext): Promise<boolean> {
    const copy = await findSentCopy(gmail, reply, source.gmail_thread_id);
    if (!copy) return false;
    const { data } = await gmail.users.messages.get({ userId: 'me', id: copy.id, format: 'raw' });
    const mail = await parseMail(Buffer.from(data.raw ?? '', 'base64url'));
    await recordSent(reply, { gmailId: copy.id, threadId: copy.threadId, text: mail.text, subject: mail.subject, at: copy.internalDate }, at);
    logger.info({ replyId: reply.id }, 'reply found in Gmail after an interrupted send; recorded, not resent');
    return true;
  }

  return {
    async processReply(replyId: string, at: AuditContext): Promise<ReplyOutcome> {
      const reply = await Reply.query(db).findById(replyId);
      if (!reply || !['pending', 'sending'].includes(reply.status)) return 'already_done';
      const [user, contact, source] = await Promise.all([
        User.query(db).findById(reply.user_id),
        Contact.query(db).findById(reply.contact_id),
        MessageHistory.query(db).findById(reply.source_message_id),
      ]);
      if (!user || !contact || !source) return cancel(reply, 'source_gone', at);

      const gmail = await gmailClients.forUser(user.id);
      if (reply.status === 'sending' && (await recoverFromGmail(gmail, reply, source, at))) return 'recovered';

      if (contact.deleted_at) return cancel(reply, 'contact_deleted', at);
      if (!contact.is_active) return cancel(reply, 'contact_inactive', at);
      if (!user.is_subscription_active) return cancel(reply, 'subscription_inactive', at);

      const earlier = await MessageHistory.query(db)
        .where({ user_id: user.id, contact_id: contact.id })
        .where('timestamp', '<=', source.timestamp)
        .orderBy([{ column: 'timestamp', order: 'desc' }, { column: 'id', order: 'desc' }])
        .limit(deps.historyMessages);
      const history: PromptMessage[] = earlier.reverse().map((m) => ({ direction: m.message_direction, subject: open(m, 'subject'), text: open(m, 'message_text') }));
      const contactEmail = openColumn(cipher, 'contacts', 'email', contact.id, contact.email);
      const contactName = openColumn(cipher, 'contacts', 'name', contact.id, contact.name);
      const answer = await llm.complete(
        buildPrompt({ userName: user.name, contactName, instruction: openColumn(cipher, 'contacts', 'description_ai', contact.id, contact.description_ai), history }),
      );

      // Claim the send; a concurrent run of the same reply finds nothing to claim.
      const claimed = await Reply.query(db)
        .patch({ status: 'sending', attempts: reply.attempts + 1, updated_at: new Date() })
        .where({ id: reply.id })
        .whereIn('status', ['pending', 'sending']);
      if (claimed === 0) return 'already_done';

      const subject = replySubject(open(source, 'subject'));
      const raw = await buildReplyMime({
        from: { address: user.email, name: user.name },
        to: { address: contactEmail, name: contactName },
        subject: open(source, 'subject'),
        inReplyTo: source.rfc822_message_id,
        references: source.rfc822_references,
        text: answer,
        replyId: reply.id,
      });
      const { data } = await gmail.users.messages.send({ userId: 'me', requestBody: { raw: raw.toString('base64url'), threadId: source.gmail_thread_id } });
      if (!data.id) throw new Error('Gmail accepted the send without a message id');
      await recordSent(reply, { gmailId: data.id, threadId: data.threadId ?? source.gmail_thread_id, text: answer, subject, at: new Date() }, at);
      logger.info({ replyId: reply.id, userId: user.id }, 'reply sent');
      return 'sent';
    },
  };
}

export type RepliesService = ReturnType<typeof createRepliesService>;
