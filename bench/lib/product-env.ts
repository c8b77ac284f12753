import type { BenchEnvironment } from './environment';

/** The product's configuration for the bench: the sandbox on, nothing outside loopback, limits raised. */
export function productEnv(env: BenchEnvironment, port: number): NodeJS.ProcessEnv {
  const huge = '1000000000';
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'test',
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    DATABASE_URL: env.databaseUrl,
    REDIS_URL: env.redisUrl,
    REDIS_PREFIX: env.redisPrefix,
    LOG_LEVEL: 'info',
    LOG_PRETTY: 'false',
    GOOGLE_CLIENT_ID: '',
    METADATA_SERVER_DETECTION: 'none',
    NO_GCE_CHECK: 'true',
    // The bench is one client hammering one user from one address: the abuse limits (issue 4) would
    // answer 429 at once. Raised by configuration; their Redis bookkeeping still runs per request.
    RATE_LIMIT_PER_IP_PER_MINUTE: huge,
    RATE_LIMIT_PER_USER_PER_MINUTE: huge,
    RATE_LIMIT_SIGN_IN_PER_MINUTE: huge,
    // The worker's own metrics listener: a free loopback port, never a fixed one.
    WORKER_METRICS_PORT: '0',
    WORKER_METRICS_HOST: '127.0.0.1',
    ...env.secrets,
  };
}
