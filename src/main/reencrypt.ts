import { configOrExit, processLogger } from './run';
import { createKnex } from '../db/knex';
import { FieldCipher } from '../crypto/field-cipher';
import { createKeyRotation } from '../services/key-rotation';

/**
 * `npm run reencrypt` (or `node dist/src/main/reencrypt.js`): re-encrypts every encrypted column
 * under ENCRYPTION_CURRENT_KEY while the service runs. Safe to stop and run again: it resumes.
 */
async function main() {
  const config = configOrExit();
  const logger = processLogger(config, 'reencrypt');
  const db = createKnex({ databaseUrl: config.databaseUrl, poolMax: 2 });
  try {
    const rotation = createKeyRotation({ db, cipher: new FieldCipher(config.encryptionKeys, config.encryptionCurrentKey), logger });
    const reports = await rotation.run();
    const remaining = await rotation.remaining();
    logger.info({ keyVersion: rotation.targetVersion, reports, remaining }, remaining === 0 ? 'every value uses the current key' : 'values under other keys remain');
    if (remaining > 0) process.exitCode = 1;
  } finally {
    await db.destroy();
  }
}

void main().catch((err: unknown) => {
  process.stderr.write(`re-encryption failed: ${(err as Error).message}\n`);
  process.exit(1);
});
