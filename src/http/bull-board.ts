import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { KoaAdapter } from '@bull-board/koa';
import type { Queue } from 'bullmq';
import type Koa from 'koa';

export const BULL_BOARD_PATH = '/admin/queues';

/** Bull Board over every queue, mounted at its own base path (the admin guard sits in front of it). */
export function bullBoardMiddleware(queues: Queue[]): Koa.Middleware {
  const serverAdapter = new KoaAdapter();
  createBullBoard({ queues: queues.map((q) => new BullMQAdapter(q)), serverAdapter });
  serverAdapter.setBasePath(BULL_BOARD_PATH);
  return serverAdapter.registerPlugin();
}
