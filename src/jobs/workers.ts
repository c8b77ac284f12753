import { DelayedError, UnrecoverableError, Worker, type ConnectionOptions, type Job, type Processor } from 'bullmq';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { ErrorReporter } from '../observability/error-reporter';
import { runWithLogContext } from '../observability/log-context';
import { GmailNotConnectedError } from '../gmail/errors';
import { bullPrefix } from './queues';
import { QUEUE_NAMES, type QueueName } from './registry';
import { mailboxSyncProcessor } from './processors/mailbox-sync';
import { replyProcessor } from './processors/reply';
import { gmailWatchProcessor } from './processors/gmail-watch';
import { maintenanceProcessor } from './processors/maintenance';
import type { MailboxSyncService } from '../services/mailbox-sync';
import type { RepliesService } from '../services/replies';
import type { WatchService } from '../services/gmail-watch';
import type { MaintenanceService } from '../services/maintenance';

export interface WorkerDeps {
  connection: ConnectionOptions;
  redisPrefix: string;
  concurrency: number;
  /** Lock of a running job; a job whose worker died is taken up again after about this long. */
  lockMs: number;
  logger: Logger;
  metrics: Metrics;
  errors: ErrorReporter;
  services: { sync: MailboxSyncService; replies: RepliesService; watch: WatchService; maintenance: MaintenanceService };
}

export interface Workers {
  workers: Worker[];
  close(): Promise<void>;
}

/** Errors that no retry can fix end the job at once (the user must sign in again first). */
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

function requestIdOf(job: Job | undefined): string | undefined {
  const data = job?.data as { requestId?: unknown } | undefined;
  return typeof data?.requestId === 'string' ? data.requestId : undefined;
}

/**
 * Runs each job with its ids in the log context (every line it writes carries the job id, the
 * queue and the request that caused it) and measures its duration by outcome.
 */
function observed<T>(queue: QueueName, metrics: Metrics, processor: Processor<T>): Processor<T> {
  return (job, token) =>
    runWithLogContext({ jobId: job.id, queue, requestId: requestIdOf(job as Job) }, async () => {
      const stop = metrics.jobDuration.startTimer({ queue });
      try {
        const result = await processor(job, token);
        stop({ outcome: 'completed' });
        return result;
      } catch (err) {
        stop({ outcome: err instanceof DelayedError ? 'delayed' : 'failed' });
        throw err;
      }
    });
}

/** A failed attempt is final when BullMQ will not run the job again (it then sets finishedOn). */
function failedForGood(job: Job | undefined, err: Error): boolean {
  return err instanceof UnrecoverableError || Boolean(job?.finishedOn);
}

export function startWorkers(deps: WorkerDeps): Workers {
  const prefix = bullPrefix(deps.redisPrefix);
  const make = <T>(name: QueueName, processor: Processor<T>, concurrency = deps.concurrency) => {
    const worker = new Worker<T>(name, observed(name, deps.metrics, failFast(processor)), {
      connection: deps.connection,
      prefix,
      concurrency,
      lockDuration: deps.lockMs,
      stalledInterval: deps.lockMs,
      // A job interrupted by a crash is run again (our jobs are idempotent), a few times at most.
      maxStalledCount: 3,
    });
    const log = deps.logger.child({ queue: name });
    worker.on('completed', (job: Job<T>) =>
      log.info({ jobId: job.id, requestId: requestIdOf(job), ms: job.finishedOn && job.processedOn ? job.finishedOn - job.processedOn : null, result: job.returnvalue }, 'job completed'),
    );
    worker.on('failed', (job: Job<T> | undefined, err: Error) => {
      const final = failedForGood(job, err);
      deps.metrics.jobFailures.inc({ queue: name, final: String(final) });
      log.warn({ jobId: job?.id, requestId: requestIdOf(job), attempt: job?.attemptsMade, final, err: { name: err.name, message: err.message.slice(0, 300) } }, 'job failed');
      if (final) deps.errors.jobFailed(err, { queue: name, jobId: job?.id, requestId: requestIdOf(job), attempts: job?.attemptsMade ?? 0 });
    });
    worker.on('error', (err: Error) => log.error({ err: { name: err.name, message: err.message } }, 'worker error'));
    return worker as unknown as Worker;
  };
  const workers = [
    make(QUEUE_NAMES.mailboxSync, mailboxSyncProcessor(deps.services.sync) as Processor),
    make(QUEUE_NAMES.reply, replyProcessor(deps.services.replies) as Processor),
    make(QUEUE_NAMES.gmailWatch, gmailWatchProcessor(deps.services.watch) as Processor),
    make(QUEUE_NAMES.maintenance, maintenanceProcessor(deps.services.maintenance) as Processor, 1),
  ];
  return {
    workers,
    async close() {
      await Promise.all(workers.map((w) => w.close()));
    },
  };
}
