import type { Knex } from 'knex';

/**
 * What the hardened mail pipeline keeps:
 * - gmail_connections.last_synced_at: when a sync last finished (the floor of a resync after the
 *   history expired, when no mail was recorded yet);
 * - replies.lease_until: a reply in 'sending' belongs to one run until then; after it, another run
 *   looks for it in Gmail before sending;
 * - replies.sent_at and replies.gmail_thread_id: what the per-contact and per-thread caps count;
 * - active_conversations.paused_until: the assistant stays out of a conversation in which the user
 *   wrote by hand, until then.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('gmail_connections', (t) => {
    t.timestamp('last_synced_at', { useTz: true });
  });
  await knex.schema.alterTable('replies', (t) => {
    t.timestamp('lease_until', { useTz: true });
    t.timestamp('sent_at', { useTz: true });
    t.text('gmail_thread_id');
    t.index(['contact_id', 'sent_at'], 'replies_sent_by_contact');
    t.index(['user_id', 'gmail_thread_id', 'sent_at'], 'replies_sent_by_thread');
  });
  await knex.schema.alterTable('active_conversations', (t) => {
    t.timestamp('paused_until', { useTz: true });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('active_conversations', (t) => {
    t.dropColumn('paused_until');
  });
  await knex.schema.alterTable('replies', (t) => {
    t.dropIndex(['user_id', 'gmail_thread_id', 'sent_at'], 'replies_sent_by_thread');
    t.dropIndex(['contact_id', 'sent_at'], 'replies_sent_by_contact');
    t.dropColumn('gmail_thread_id');
    t.dropColumn('sent_at');
    t.dropColumn('lease_until');
  });
  await knex.schema.alterTable('gmail_connections', (t) => {
    t.dropColumn('last_synced_at');
  });
}
