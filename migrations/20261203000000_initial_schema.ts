import type { Knex } from 'knex';

/**
 * The brief's tables (users, contacts, message_history, active_conversations) with their names kept,
 * plus what the flows need: the Gmail connection, the intended replies and the audit trail.
 * Columns marked (enc) hold AES-256-GCM ciphertext written by the application (src/crypto).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`CREATE TYPE message_direction AS ENUM ('sent', 'received')`);

  await knex.schema.createTable('users', (t) => {
    t.uuid('id').primary();
    t.text('email').notNullable().unique();
    t.text('google_sub').notNullable().unique();
    t.text('name').notNullable().defaultTo('');
    t.boolean('is_subscription_active').notNullable().defaultTo(false);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.check('email = lower(email)', [], 'users_email_lower_case');
  });

  await knex.schema.createTable('gmail_connections', (t) => {
    t.uuid('user_id').primary().references('id').inTable('users').onDelete('CASCADE');
    t.text('refresh_token'); // (enc)
    t.text('access_token'); // (enc)
    t.timestamp('access_token_expires_at', { useTz: true });
    t.specificType('scopes', 'text[]').notNullable().defaultTo('{}');
    t.decimal('history_id', 20, 0); // last processed Gmail historyId (uint64)
    t.timestamp('watch_expires_at', { useTz: true });
    t.text('watch_error');
    t.text('status').notNullable().defaultTo('ok');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.check(`status IN ('ok', 'needs_reconsent')`, [], 'gmail_connections_status');
  });

  await knex.schema.createTable('contacts', (t) => {
    t.uuid('id').primary();
    t.uuid('user_id').notNullable().references('id').inTable('users').onDelete('CASCADE');
    t.text('email').notNullable(); // (enc)
    t.text('email_hash').notNullable(); // blind index of the normalised email
    t.text('name').notNullable(); // (enc)
    t.text('description_ai').notNullable(); // (enc)
    t.boolean('is_active').notNullable().defaultTo(false);
    t.timestamp('deleted_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['id', 'user_id'], { indexName: 'contacts_id_user_id_unique' });
    t.index(['user_id', 'id'], 'contacts_user_id_id_index');
  });
  await knex.raw(
    `CREATE UNIQUE INDEX contacts_one_live_per_email ON contacts (user_id, email_hash) WHERE deleted_at IS NULL`,
  );

  await knex.schema.createTable('message_history', (t) => {
    t.uuid('id').primary();
    t.uuid('user_id').notNullable().references('id').inTable('users').onDelete('CASCADE');
    t.uuid('contact_id').notNullable();
    t.specificType('message_direction', 'message_direction').notNullable();
    t.text('message_text').notNullable(); // (enc)
    t.text('subject').notNullable(); // (enc)
    t.timestamp('timestamp', { useTz: true }).notNullable();
    t.text('gmail_message_id').notNullable();
    t.text('gmail_thread_id').notNullable();
    t.text('rfc822_message_id');
    t.specificType('rfc822_references', 'text[]').notNullable().defaultTo('{}');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.foreign(['contact_id', 'user_id']).references(['id', 'user_id']).inTable('contacts').onDelete('CASCADE');
    t.unique(['user_id', 'gmail_message_id'], { indexName: 'message_history_one_per_gmail_message' });
    t.index(['contact_id', 'timestamp', 'id'], 'message_history_contact_timeline');
  });

  await knex.schema.createTable('active_conversations', (t) => {
    t.uuid('id').primary();
    t.uuid('user_id').notNullable().references('id').inTable('users').onDelete('CASCADE');
    t.uuid('contact_id').notNullable();
    t.timestamp('last_interaction_at', { useTz: true }).notNullable();
    t.uuid('last_message_id').references('id').inTable('message_history').onDelete('SET NULL');
    t.foreign(['contact_id', 'user_id']).references(['id', 'user_id']).inTable('contacts').onDelete('CASCADE');
    t.unique(['user_id', 'contact_id'], { indexName: 'active_conversations_one_per_contact' });
    t.index(['user_id', 'last_interaction_at', 'id'], 'active_conversations_recent');
  });

  await knex.schema.createTable('replies', (t) => {
    t.uuid('id').primary();
    t.uuid('user_id').notNullable().references('id').inTable('users').onDelete('CASCADE');
    t.uuid('contact_id').notNullable();
    t.uuid('source_message_id').notNullable().unique().references('id').inTable('message_history').onDelete('CASCADE');
    t.text('status').notNullable().defaultTo('pending');
    t.text('failure_reason');
    t.uuid('sent_message_id').references('id').inTable('message_history').onDelete('SET NULL');
    t.text('gmail_message_id');
    t.integer('attempts').notNullable().defaultTo(0);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.foreign(['contact_id', 'user_id']).references(['id', 'user_id']).inTable('contacts').onDelete('CASCADE');
    t.check(`status IN ('pending', 'sending', 'sent', 'failed', 'cancelled')`, [], 'replies_status');
    t.index(['status', 'updated_at'], 'replies_by_status');
  });

  await knex.schema.createTable('audit_log', (t) => {
    t.bigIncrements('id').primary();
    t.timestamp('occurred_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.text('actor_type').notNullable(); // user | admin | system
    t.uuid('actor_user_id'); // no foreign key: the trail outlives a deleted account
    t.uuid('subject_user_id');
    t.text('action').notNullable();
    t.text('entity_type');
    t.text('entity_id');
    t.text('request_id');
    t.text('job_id');
    t.jsonb('metadata').notNullable().defaultTo('{}');
    t.index(['subject_user_id', 'id'], 'audit_log_by_user');
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['audit_log', 'replies', 'active_conversations', 'message_history', 'contacts', 'gmail_connections', 'users']) {
    await knex.schema.dropTableIfExists(table);
  }
  await knex.raw('DROP TYPE IF EXISTS message_direction');
}
