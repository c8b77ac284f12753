import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { Redis } from 'ioredis';
import { createKnex, migrateLatest } from '../../src/db/knex';

// No Google client library may probe the cloud metadata server from a test: the address is
// outside loopback.
process.env.METADATA_SERVER_DETECTION = 'none';
process.env.NO_GCE_CHECK = 'true';

const ADMIN_URL = process.env.TEST_POSTGRES_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';

/**
 * Each test run gets its own database and Redis key prefix (for the parallel runs of several
 * checkouts on one machine), created here and removed at the end.
 */
export async function mochaGlobalSetup(): Promise<void> {
  const run = `${process.pid}_${randomBytes(4).toString('hex')}`;
  const database = `ga_test_${run}`;
  const admin = new Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${database}"`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${database}`;
  process.env.TEST_DATABASE_URL = url.toString();
  process.env.TEST_DATABASE_NAME = database;
  process.env.TEST_REDIS_URL = REDIS_URL;
  process.env.TEST_REDIS_PREFIX = `gatest_${run}`;

  // Migrations run once for the whole run, from source, the way `npm run migrate` does.
  const db = createKnex({ databaseUrl: process.env.TEST_DATABASE_URL, poolMax: 2 });
  await migrateLatest(db);
  await db.destroy();
}

export async function mochaGlobalTeardown(): Promise<void> {
  const database = process.env.TEST_DATABASE_NAME;
  if (database) {
    const admin = new Client({ connectionString: ADMIN_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    await admin.end();
  }
  const prefix = process.env.TEST_REDIS_PREFIX;
  if (prefix) {
    const redis = new Redis(REDIS_URL);
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    redis.disconnect();
  }
}
