import knexFactory, { type Knex } from 'knex';
import { Model } from 'objection';
import { migrationSource } from './migration-source';

export interface DbOptions {
  databaseUrl: string;
  poolMax: number;
}

export function createKnex(opts: DbOptions): Knex {
  const db = knexFactory({
    client: 'pg',
    connection: opts.databaseUrl,
    pool: { min: 0, max: opts.poolMax },
    migrations: { migrationSource, tableName: 'knex_migrations' },
  });
  Model.knex(db);
  return db;
}

export async function migrateLatest(db: Knex): Promise<string[]> {
  const [, applied] = (await db.migrate.latest()) as [number, string[]];
  return applied;
}
