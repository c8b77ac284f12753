import type { Knex } from 'knex';
import { Contact, MessageHistory } from '../db/models';
import type { FieldCipher } from '../crypto/field-cipher';
import { newId } from '../db/ids';
import { contactView, type ContactView } from './contacts';
import { messageView, type MessageView } from './message-history';
import { decodeCursor, isIsoDate, isUuidString, toPage, type Page } from './pagination';

export interface ConversationView {
  id: string;
  contact: ContactView;
  last_interaction_at: string;
  last_message: MessageView | null;
}

/**
 * Marks the conversation with a contact as touched by a message. Only moves forward in time, so
 * messages recorded out of order never make an older one "last".
 */
export async function touchConversation(trx: Knex.Transaction, message: { userId: string; contactId: string; messageId: string; at: Date }): Promise<void> {
  await trx.raw(
    `INSERT INTO active_conversations (id, user_id, contact_id, last_interaction_at, last_message_id)
     VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (user_id, contact_id) DO UPDATE
       SET last_interaction_at = EXCLUDED.last_interaction_at, last_message_id = EXCLUDED.last_message_id
       WHERE active_conversations.last_interaction_at <= EXCLUDED.last_interaction_at`,
    [newId(), message.userId, message.contactId, message.at, message.messageId],
  );
}

interface ConversationRow {
  id: string;
  last_interaction_at: Date;
  last_message_id: string | null;
  contact: Record<string, unknown>;
  message: Record<string, unknown> | null;
}

/** Active conversations (live contacts), most recent first, each with its contact and last message. */
export function createConversationsService(deps: { db: Knex; cipher: FieldCipher }) {
  return {
    async list(userId: string, q: { limit: number; cursor?: string }): Promise<Page<ConversationView>> {
      const query = deps.db('active_conversations as ac')
        .join('contacts as c', 'c.id', 'ac.contact_id')
        .leftJoin('message_history as m', 'm.id', 'ac.last_message_id')
        .where('ac.user_id', userId)
        .whereNull('c.deleted_at')
        .orderBy([{ column: 'ac.last_interaction_at', order: 'desc' }, { column: 'ac.id', order: 'desc' }])
        .limit(q.limit + 1)
        .select('ac.id', 'ac.last_interaction_at', 'ac.last_message_id', deps.db.raw('to_jsonb(c.*) AS contact'), deps.db.raw('to_jsonb(m.*) AS message'));
      if (q.cursor) {
        const [ts, id] = decodeCursor('conversations', q.cursor, [isIsoDate, isUuidString]);
        query.whereRaw('(ac.last_interaction_at, ac.id) < (?::timestamptz, ?::uuid)', [ts as string, id as string]);
      }
      const rows = (await query) as ConversationRow[];
      return toPage(
        'conversations',
        rows,
        q.limit,
        (r) => [r.last_interaction_at.toISOString(), r.id],
        (r) => ({
          id: r.id,
          contact: contactView(deps.cipher, Contact.fromDatabaseJson(withDates(r.contact, ['deleted_at', 'created_at', 'updated_at']))),
          last_interaction_at: r.last_interaction_at.toISOString(),
          last_message: r.message ? messageView(deps.cipher, MessageHistory.fromDatabaseJson(withDates(r.message, ['timestamp', 'created_at']))) : null,
        }),
      );
    },
  };
}

/** to_jsonb renders timestamps as strings; the view functions expect Dates as pg gives them. */
function withDates(row: Record<string, unknown>, columns: string[]): Record<string, unknown> {
  const copy = { ...row };
  for (const c of columns) if (typeof copy[c] === 'string') copy[c] = new Date(copy[c] as string);
  return copy;
}

export type ConversationsService = ReturnType<typeof createConversationsService>;
