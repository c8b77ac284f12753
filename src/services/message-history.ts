import type { Knex } from 'knex';
import { Contact, MessageHistory } from '../db/models';
import { openColumn, sealColumns } from '../db/encrypted-columns';
import { newId } from '../db/ids';
import type { FieldCipher } from '../crypto/field-cipher';
import { NotFoundError } from '../errors';
import { decodeCursor, isIsoDate, isUuidString, toPage, type Page } from './pagination';

export interface MessageView {
  id: string;
  contact_id: string;
  message_direction: 'sent' | 'received';
  subject: string;
  message_text: string;
  timestamp: string;
  gmail_thread_id: string;
}

export function messageView(cipher: FieldCipher, row: MessageHistory): MessageView {
  return {
    id: row.id,
    contact_id: row.contact_id,
    message_direction: row.message_direction,
    subject: openColumn(cipher, 'message_history', 'subject', row.id, row.subject),
    message_text: openColumn(cipher, 'message_history', 'message_text', row.id, row.message_text),
    timestamp: row.timestamp.toISOString(),
    gmail_thread_id: row.gmail_thread_id,
  };
}

export interface NewHistoryMessage {
  userId: string;
  contactId: string;
  direction: 'sent' | 'received';
  text: string;
  subject: string;
  timestamp: Date;
  gmailMessageId: string;
  gmailThreadId: string;
  rfc822MessageId?: string | null;
  rfc822References?: string[];
}

/**
 * Writes one message of the history, text and subject encrypted, at most once per user and Gmail
 * message id. Returns the new row's id, or null when that Gmail message was recorded already.
 */
export async function insertHistoryMessage(trx: Knex.Transaction, cipher: FieldCipher, message: NewHistoryMessage): Promise<string | null> {
  const id = newId();
  const inserted = await trx('message_history')
    .insert({
      id,
      user_id: message.userId,
      contact_id: message.contactId,
      message_direction: message.direction,
      ...sealColumns(cipher, 'message_history', id, { message_text: message.text, subject: message.subject }),
      timestamp: message.timestamp,
      gmail_message_id: message.gmailMessageId,
      gmail_thread_id: message.gmailThreadId,
      rfc822_message_id: message.rfc822MessageId ?? null,
      rfc822_references: message.rfc822References ?? [],
    })
    .onConflict(['user_id', 'gmail_message_id'])
    .ignore()
    .returning('id');
  return inserted.length > 0 ? id : null;
}

export interface MessagePageInput {
  limit: number;
  cursor?: string;
}

/** The history with one contact, newest first; a deleted contact's history stays readable. */
export function createMessageHistoryService(deps: { db: Knex; cipher: FieldCipher }) {
  return {
    async listForContact(userId: string, contactId: string, q: MessagePageInput): Promise<Page<MessageView>> {
      const contact = await Contact.query(deps.db).where({ id: contactId, user_id: userId }).select('id').first();
      if (!contact) throw new NotFoundError('contact');
      const query = MessageHistory.query(deps.db)
        .where({ contact_id: contactId, user_id: userId })
        .orderBy([{ column: 'timestamp', order: 'desc' }, { column: 'id', order: 'desc' }])
        .limit(q.limit + 1);
      if (q.cursor) {
        const [ts, id] = decodeCursor('messages', q.cursor, [isIsoDate, isUuidString]);
        query.whereRaw('("timestamp", id) < (?::timestamptz, ?::uuid)', [ts as string, id as string]);
      }
      const rows = await query;
      return toPage('messages', rows, q.limit, (r) => [r.timestamp.toISOString(), r.id], (r) => messageView(deps.cipher, r));
    },
  };
}

export type MessageHistoryService = ReturnType<typeof createMessageHistoryService>;
