import type { Knex } from 'knex';
import { Contact, MessageHistory } from '../db/models';
import { openColumn } from '../db/encrypted-columns';
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
        const [ts, id] = decodeCursor(q.cursor, [isIsoDate, isUuidString]);
        query.whereRaw('("timestamp", id) < (?::timestamptz, ?::uuid)', [ts as string, id as string]);
      }
      const rows = await query;
      return toPage(rows, q.limit, (r) => [r.timestamp.toISOString(), r.id], (r) => messageView(deps.cipher, r));
    },
  };
}

export type MessageHistoryService = ReturnType<typeof createMessageHistoryService>;
