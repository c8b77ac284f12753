import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import Router from '@koa/router';
import { koaBaseline } from './koa';
import { pgBaselines } from './pg';
import { bullmqAddBaseline } from './bullmq-add';

/**
 * The baseline HTTP server: one process serving every HTTP baseline under /b/ (each in its own
 * module), started by the bench like the product's web process. Environment: DATABASE_URL,
 * DATABASE_POOL_MAX, REDIS_HOST, REDIS_PORT, BULL_PREFIX.
 */
async function main() {
  const env = process.env;
  const app = new Koa();
  app.silent = true;
  const router = new Router();
  koaBaseline(router);
  const pool = pgBaselines(router, { databaseUrl: env.DATABASE_URL!, poolMax: Number(env.DATABASE_POOL_MAX ?? 10) });
  const queue = bullmqAddBaseline(router, {
    connection: { host: env.REDIS_HOST ?? '127.0.0.1', port: Number(env.REDIS_PORT ?? 6379), maxRetriesPerRequest: null },
    prefix: env.BULL_PREFIX!,
  });
  app.use(router.routes());
  app.use(router.allowedMethods());

  const server = http.createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const stop = () => {
    server.close();
    void Promise.all([pool.end(), queue.close()]).finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.send?.({ type: 'ready', port: (server.address() as AddressInfo).port });
}

void main().catch((err: unknown) => {
  process.stderr.write(`baseline server failed to start: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
