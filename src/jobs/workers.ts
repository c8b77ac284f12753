import { UnrecoverableError, Worker, type ConnectionOptions, type Job, type Processor } from 'bullmq';
import type { Logger } from '../observability/logger';
import { GmailNotConnectedError } from '../gmail/client';
import { bullPrefix } from './queues';
import { QUEUE_NAMES, type QueueName } from './registry';
import { mailboxSyncProcessor } from './processors/mailbox-sync';
import { replyProcessor } from './processors/reply';
import { gmailWatchProcessor } from './processors/gmail-watch';
import type { MailboxSyncService } from '../services/mailbox-sync';
import type { RepliesService } from '../services/replies';
import type { WatchService } from '../services/gmail-watch';

export interface WorkerDeps {
  connection: ConnectionOptions;
  redisPrefix: string;
  concurrency: number;
  logger: Logger;
  services: { sync: MailboxSyncService; replies: RepliesService; watch: WatchService };
}

export interface Workers {
  workers: Worker[];
  close(): Promise<void>;
}

/** Errors that no retry can fix end the job at once. */
function failFast<T>(processor: Processor<T>): Processor<T> {
  return async (job, token) => {
    try {
      return await processor(job, token);
    } catch (err) {
      if (err instanceof GmailNotConnectedError) throw new UnrecoverableError(err.message);
      throw err;
    }
  };
}

export function startWorkers(deps: WorkerDeps): Workers {
  const prefix = bullPrefix(deps.redisPrefix);
  const make = <T>(name: QueueName, processor: Processor<T>) => {
    const worker = new Worker<T>(name, failFast(processor), { connection: deps.connection, prefix, concurrency: deps.concurrency });
    const log = deps.logger.child({ queue: name });
    worker.on('completed', (job: Job<T>) => log.info({ jobId: job.id, ms: job.finishedOn && job.processedOn ? job.finishedOn - job.processedOn : null, result: job.returnvalue }, 'job completed'));
    worker.on('failed', (job: Job<T> | undefined, err: Error) =>
      log.warn({ jobId: job?.id, attempt: job?.attemptsMade, err: { name: err.name, message: err.message.slice(0, 300) } }, 'job failed'),
    );
    worker.on('error', (err: Error) => log.error({ err: { name: err.name, message: err.message } }, 'worker error'));
    return worker as unknown as Worker;
  };
  const workers = [
    make(QUEUE_NAMES.mailboxSync, mailboxSyncProcessor(deps.services.sync) as Processor),
    make(QUEUE_NAMES.reply, replyProcessor(deps.services.replies) as Processor),
    make(QUEUE_NAMES.gmailWatch, gmailWatchProcessor(deps.services.watch) as Processor),
  ];
  return {
    workers,
    async close() {
      await Promise.all(workers.map((w) => w.close()));
    },
  };
}
