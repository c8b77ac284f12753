import { Queue, type ConnectionOptions } from 'bullmq';
import { DEFAULT_JOB_OPTIONS, QUEUE_NAMES, type JobPayloads, type QueueName } from './registry';

/** What services may ask of the queues; they never see BullMQ types. */
export interface JobProducer {
  enqueueMailboxSync(payload: JobPayloads['mailbox-sync']): Promise<void>;
  enqueueReply(payload: JobPayloads['reply']): Promise<void>;
  enqueueWatch(payload: JobPayloads['gmail-watch']): Promise<void>;
}

export interface Queues extends JobProducer {
  all: Queue[];
  byName: Record<QueueName, Queue>;
  close(): Promise<void>;
}

export function bullPrefix(redisPrefix: string): string {
  return `${redisPrefix}:bull`;
}

export function createQueues(connection: ConnectionOptions, redisPrefix: string): Queues {
  const prefix = bullPrefix(redisPrefix);
  const make = <N extends QueueName>(name: N) =>
    new Queue<JobPayloads[N]>(name, { connection, prefix, defaultJobOptions: DEFAULT_JOB_OPTIONS });
  const sync = make(QUEUE_NAMES.mailboxSync);
  const reply = make(QUEUE_NAMES.reply);
  const watch = make(QUEUE_NAMES.gmailWatch);
  const byName = { 'mailbox-sync': sync, reply, 'gmail-watch': watch } as unknown as Record<QueueName, Queue>;

  return {
    all: [sync, reply, watch] as unknown as Queue[],
    byName,
    async enqueueMailboxSync(payload) {
      // One sync per user at a time; pushes that arrive while one runs coalesce into one more run.
      await sync.add('sync', payload, { deduplication: { id: `sync-${payload.userId}`, keepLastIfActive: true } });
    },
    async enqueueReply(payload) {
      // The job id makes enqueueing the same reply twice a no-op.
      await reply.add('reply', payload, { jobId: `reply-${payload.replyId}` });
    },
    async enqueueWatch(payload) {
      await watch.add('watch', payload, { deduplication: { id: `watch-${payload.userId}` } });
    },
    async close() {
      await Promise.all([sync.close(), reply.close(), watch.close()]);
    },
  };
}
