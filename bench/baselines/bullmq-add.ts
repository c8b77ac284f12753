import type Router from '@koa/router';
import { Queue, type ConnectionOptions } from 'bullmq';

export const ADD_QUEUE = 'bench-add';

/** Raw BullMQ add (B-add): B-koa plus one Queue.add of an ids-only payload per request. */
export function bullmqAddBaseline(router: Router, opts: { connection: ConnectionOptions; prefix: string }): Queue {
  const queue = new Queue(ADD_QUEUE, { connection: opts.connection, prefix: opts.prefix });
  router.post('/b/add', async (ctx) => {
    await queue.add('job', { userId: '0190b6c4-1f2e-7a00-8000-000000000000' });
    ctx.status = 204;
  });
  // Between runs (not measured): drop what was added, so that Redis does not grow run after run.
  router.delete('/b/add', async (ctx) => {
    await queue.obliterate({ force: true });
    ctx.status = 204;
  });
  return queue;
}
