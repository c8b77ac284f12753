import type { Knex } from 'knex';

/** Where the re-encryption CLI stopped in each table, so that an interrupted run resumes there. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('reencryption_progress', (t) => {
    t.text('table_name').primary();
    t.text('target_key_version').notNullable();
    t.text('last_row_id');
    t.boolean('done').notNullable().defaultTo(false);
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('reencryption_progress');
}
