import { randomBytes } from 'node:crypto';
import { loadConfig, type Config } from '../../src/config';

let systems = 0;

/** Keys made once per run: tests must never depend on a fixed secret. */
export const TEST_SECRETS = {
  SESSION_KEYS: randomBytes(32).toString('base64url'),
  ENCRYPTION_KEYS: `t1:${randomBytes(32).toString('base64')}`,
  BLIND_INDEX_KEY: randomBytes(32).toString('base64'),
};

export function testDatabaseUrl(): string {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) throw new Error('TEST_DATABASE_URL is not set: run the tests with mocha (test/setup/global.ts)');
  return url;
}

/** A config for one system under test: its own Redis prefix, the run's database, the sandbox on. */
export function testConfig(publicUrl: string, overrides: Record<string, string> = {}): Config {
  systems += 1;
  return loadConfig({
    NODE_ENV: 'test',
    PORT: String(new URL(publicUrl).port),
    PUBLIC_URL: publicUrl,
    DATABASE_URL: testDatabaseUrl(),
    DATABASE_POOL_MAX: '5',
    REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0',
    REDIS_PREFIX: `${process.env.TEST_REDIS_PREFIX ?? 'gatest'}_${systems}`,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    LOG_PRETTY: 'false',
    WORKER_CONCURRENCY: '3',
    // Every test signs in from 127.0.0.1: the limits are tested on systems of their own.
    RATE_LIMIT_PER_IP_PER_MINUTE: '1000000',
    RATE_LIMIT_PER_USER_PER_MINUTE: '1000000',
    RATE_LIMIT_SIGN_IN_PER_MINUTE: '1000000',
    ...TEST_SECRETS,
    ...overrides,
  });
}
