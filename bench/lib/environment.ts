import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { Redis } from 'ioredis';
import { createKnex, migrateLatest } from '../../src/db/knex';

const ADMIN_URL = process.env.BENCH_POSTGRES_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/0';

/** What one bench run owns: its database and Redis key prefix (like the tests' global setup), and its secrets. */
export interface BenchEnvironment {
  databaseName: string;
  databaseUrl: string;
  redisUrl: string;
  redisPrefix: string;
  secrets: { SESSION_KEYS: string; ENCRYPTION_KEYS: string; BLIND_INDEX_KEY: string };
}

export async function createEnvironment(): Promise<BenchEnvironment> {
  const run = `${process.pid}_${randomBytes(4).toString('hex')}`;
  const databaseName = `ga_bench_${run}`;
  const admin = new Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${databaseName}"`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${databaseName}`;
  const db = createKnex({ databaseUrl: url.toString(), poolMax: 2 });
  await migrateLatest(db);
  await db.destroy();
  return {
    databaseName,
    databaseUrl: url.toString(),
    redisUrl: REDIS_URL,
    redisPrefix: `gabench_${run}`,
    secrets: {
      SESSION_KEYS: randomBytes(32).toString('base64url'),
      ENCRYPTION_KEYS: `b1:${randomBytes(32).toString('base64')}`,
      BLIND_INDEX_KEY: randomBytes(32).toString('base64'),
    },
  };
}

/** Drops the database and every Redis key under the prefix. */
export async function removeEnvironment(env: BenchEnvironment): Promise<void> {
  const admin = new Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${env.databaseName}" WITH (FORCE)`);
  await admin.end();
  const redis = new Redis(env.redisUrl);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${env.redisPrefix}*`, 'COUNT', 1000);
    if (keys.length) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  redis.disconnect();
}

export async function serverVersions(env: BenchEnvironment): Promise<{ postgres: string; redis: string }> {
  const client = new Client({ connectionString: env.databaseUrl });
  await client.connect();
  const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
  await client.end();
  const redis = new Redis(env.redisUrl);
  const info = await redis.info('server');
  redis.disconnect();
  return { postgres: `PostgreSQL ${rows[0]!.server_version}`, redis: `Redis ${/redis_version:(\S+)/.exec(info)?.[1] ?? '?'}` };
}
