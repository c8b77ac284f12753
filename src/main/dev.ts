import { configOrExit, closeOnSignals, processLogger } from './run';
import { withDevSecrets } from './dev-secrets';
import { startSystem } from './system';
import { createKnex, migrateLatest } from '../db/knex';
import { ensureDatabase } from '../db/ensure-database';

/**
 * `npm start`: the whole system in one process for a laptop: migrations, web, worker, and the
 * sandbox when no Google credentials are configured.
 */
async function main() {
  const config = configOrExit(withDevSecrets(process.env));
  const logger = processLogger(config, 'dev');
  await ensureDatabase(config.databaseUrl);
  const db = createKnex({ databaseUrl: config.databaseUrl, poolMax: 2 });
  const applied = await migrateLatest(db).finally(() => db.destroy());
  if (applied.length) logger.info({ applied }, 'migrations applied');
  const system = await startSystem({ config, logger, web: true, worker: true });
  closeOnSignals(logger, () => system.close(), config.operations.shutdownTimeoutMs);
  if (config.sandboxEnabled) {
    logger.info(
      { signIn: `${config.publicUrl}/auth/google?login_hint=<any address>`, deliverMail: `POST ${config.publicUrl}/sandbox/gmail/mailboxes/<that address>/incoming` },
      'sandbox on: sign in with any address, then deliver mail to that mailbox (README, walkthrough)',
    );
  }
}

void main().catch((err: unknown) => {
  process.stderr.write(`failed to start: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
