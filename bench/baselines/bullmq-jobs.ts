import { Worker } from 'bullmq';

export const JOBS_QUEUE = 'bench-jobs';

/**
 * B-jobs: a BullMQ worker that does nothing with each job, at the product's worker concurrency
 * (WORKER_CONCURRENCY), in its own process like the product's worker. Environment: REDIS_HOST,
 * REDIS_PORT, BULL_PREFIX, CONCURRENCY.
 */
function main() {
  const env = process.env;
  const worker = new Worker(JOBS_QUEUE, async () => undefined, {
    connection: { host: env.REDIS_HOST ?? '127.0.0.1', port: Number(env.REDIS_PORT ?? 6379), maxRetriesPerRequest: null },
    prefix: env.BULL_PREFIX!,
    concurrency: Number(env.CONCURRENCY ?? 5),
  });
  const stop = () => void worker.close().finally(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  void worker.waitUntilReady().then(() => process.send?.({ type: 'ready' }));
}

if (require.main === module) main();
