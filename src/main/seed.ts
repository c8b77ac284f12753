import path from 'node:path';
import { configOrExit, processLogger } from './run';
import { withDevSecrets } from './dev-secrets';
import { createKnex, migrateLatest } from '../db/knex';
import { ensureDatabase } from '../db/ensure-database';

/** `npm run seed`: migrations, then the demo data of seeds/. */
async function main() {
  const config = configOrExit(withDevSecrets(process.env));
  const logger = processLogger(config, 'seed');
  await ensureDatabase(config.databaseUrl);
  const db = createKnex({ databaseUrl: config.databaseUrl, poolMax: 2 });
  try {
    await migrateLatest(db);
    const fromSource = __filename.endsWith('.ts');
    const [files] = await db.seed.run({
      directory: path.resolve(__dirname, '..', '..', 'seeds'),
      loadExtensions: [fromSource ? '.ts' : '.js'],
    });
    logger.info({ seeds: files.map((f) => path.basename(f)) }, 'seeds applied');
  } finally {
    await db.destroy();
  }
}

void main().catch((err: unknown) => {
  process.stderr.write(`seeding failed: ${(err as Error).message}\n`);
  process.exit(1);
});
