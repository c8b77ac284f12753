import { Queue, type ConnectionOptions } from 'bullmq';
import { jobOptions, QUEUE_NAMES, type JobPayloads, type MaintenanceTask, type QueueName, type RetryPolicy } from './registry';

/** What services may ask of the queues; they never see BullMQ types. */
export interface JobProducer {
  enqueueMailboxSync(payload: JobPayloads['mailbox-sync']): Promise<void>;
  enqueueMailboxSyncs(userIds: string[], trigger: JobPayloads['mailbox-sync']['trigger']): Promise<void>;
  enqueueReply(payload: JobPayloads['reply']): Promise<void>;
  /** Queues a reply again whose job is missing or finished while its row still waits (Redis lost, job failed for good). */
  requeueReply(replyId: string): Promise<boolean>;
  enqueueWatch(payload: JobPayloads['gmail-watch']): Promise<void>;
  /** Removes what waits in the queues for a user who is being deleted. */
  removeUserJobs(userId: string, replyIds: string[]): Promise<void>;
}

export interface SchedulerIntervals {
  reconcileMs: number;
  renewWatchesMs: number;
}

export interface Queues extends JobProducer {
  all: Queue[];
  byName: Record<QueueName, Queue>;
  /** Creates or updates the periodic jobs (idempotent; called again after Redis lost its data). */
  ensureSchedulers(intervals: SchedulerIntervals): Promise<void>;
  close(): Promise<void>;
}

export function bullPrefix(redisPrefix: string): string {
  return `${redisPrefix}:bull`;
}

const syncDeduplicationId = (userId: string) => `sync-${userId}`;
const replyJobId = (replyId: string) => `reply-${replyId}`;
const watchDeduplicationId = (userId: string) => `watch-${userId}`;

export function createQueues(connection: ConnectionOptions, redisPrefix: string, retry: RetryPolicy, onError: (err: Error) => void): Queues {
  const prefix = bullPrefix(redisPrefix);
  const defaultJobOptions = jobOptions(retry);
  const make = <N extends QueueName>(name: N) => {
    const queue = new Queue<JobPayloads[N]>(name, { connection, prefix, defaultJobOptions });
    // Without a listener, a lost Redis connection is printed raw to stderr.
    queue.on('error', onError);
    return queue;
  };
  const sync = make(QUEUE_NAMES.mailboxSync);
  const reply = make(QUEUE_NAMES.reply);
  const watch = make(QUEUE_NAMES.gmailWatch);
  const maintenance = make(QUEUE_NAMES.maintenance);
  const all = [sync, reply, watch, maintenance] as unknown as Queue[];
  const byName = { 'mailbox-sync': sync, reply, 'gmail-watch': watch, maintenance } as unknown as Record<QueueName, Queue>;

  // One sync per user at a time: while one waits, more pushes are the same job; while one runs,
  // they coalesce into exactly one more run after it (which starts from the cursor it leaves).
  const syncOptions = (userId: string) => ({ deduplication: { id: syncDeduplicationId(userId), keepLastIfActive: true } });

  const schedule = (task: MaintenanceTask, every: number) =>
    maintenance.upsertJobScheduler(task, { every }, { name: task, data: { task }, opts: { attempts: 1, removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } } });

  return {
    all,
    byName,
    async enqueueMailboxSync(payload) {
      await sync.add('sync', payload, syncOptions(payload.userId));
    },
    async enqueueMailboxSyncs(userIds, trigger) {
      if (userIds.length === 0) return;
      await sync.addBulk(userIds.map((userId) => ({ name: 'sync', data: { userId, trigger }, opts: syncOptions(userId) })));
    },
    async enqueueReply(payload) {
      // The job id makes enqueueing the same reply twice a no-op.
      await reply.add('reply', payload, { jobId: replyJobId(payload.replyId) });
    },
    async requeueReply(replyId) {
      const existing = await reply.getJob(replyJobId(replyId));
      if (existing) {
        const state = await existing.getState();
        if (state === 'failed') {
          await existing.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
          return true;
        }
        if (state !== 'completed' && state !== 'unknown') return false; // waiting, active or delayed: it will run
        await existing.remove();
      }
      await reply.add('reply', { replyId }, { jobId: replyJobId(replyId) });
      return true;
    },
    async enqueueWatch(payload) {
      await watch.add('watch', payload, { deduplication: { id: watchDeduplicationId(payload.userId) } });
    },
    async removeUserJobs(userId, replyIds) {
      // A running job cannot be removed: it finds the user gone and ends.
      const removals: Array<Promise<unknown>> = replyIds.map((id) => reply.remove(replyJobId(id)).catch(() => 0));
      for (const [queue, dedup] of [[sync, syncDeduplicationId(userId)], [watch, watchDeduplicationId(userId)]] as const) {
        removals.push(
          (async () => {
            const jobId = await queue.getDeduplicationJobId(dedup);
            if (jobId) await queue.remove(jobId).catch(() => 0);
          })(),
        );
      }
      await Promise.all(removals);
    },
    async ensureSchedulers(intervals) {
      await Promise.all([schedule('reconcile', intervals.reconcileMs), schedule('renew-watches', intervals.renewWatchesMs)]);
    },
    async close() {
      await Promise.all(all.map((q) => q.close()));
    },
  };
}
