import { configOrExit, processLogger } from './run';
import { createKnex, migrateLatest } from '../db/knex';
import { ensureDatabase } from '../db/ensure-database';

/** `npm run migrate` and the Procfile's release phase: create the database if needed, apply migrations. */
async function main() {
  const config = configOrExit();
  const logger = processLogger(config, 'migrate');
  await ensureDatabase(config.databaseUrl);
  const db = createKnex({ databaseUrl: config.databaseUrl, poolMax: 2 });
  try {
    const applied = await migrateLatest(db);
    logger.info({ applied }, applied.length ? 'migrations applied' : 'schema up to date');
  } finally {
    await db.destroy();
  }
}

void main().catch((err: unknown) => {
  process.stderr.write(`migration failed: ${(err as Error).message}\n`);
  process.exit(1);
});
