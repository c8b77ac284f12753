import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The Prometheus metrics of one process, on a registry of its own (tests run several systems in one
 * process). Labels hold only small fixed sets (method names, outcomes, reasons): never user ids,
 * addresses or anything else that grows with the data.
 */
export interface MetricSources {
  /** Read at scrape time: how many connected mailboxes have a watch that failed to start or renew. */
  failingWatches?: () => Promise<number>;
  /** Read at scrape time: the number of jobs of each queue in each state. */
  queueSizes?: () => Promise<Array<{ queue: string; counts: Record<string, number> }>>;
  /** Read at scrape time: when the first Gmail watch of a connected mailbox expires (null: none watched). */
  earliestWatchExpiry?: () => Promise<Date | null>;
}

/** The job states of BullMQ that queue sizes are reported for. */
export const QUEUE_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'completed', 'failed'] as const;

export function createMetrics(sources: MetricSources = {}) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const metrics = {
    registry,
    gmailCalls: new Counter({
      name: 'gmail_api_calls_total',
      help: 'Gmail API calls by method and outcome (ok, rate_limited, server_error, not_found, client_error, network_error).',
      labelNames: ['method', 'outcome'] as const,
      registers: [registry],
    }),
    gmailQuotaUnits: new Counter({
      name: 'gmail_quota_units_total',
      help: "Gmail quota units spent, by method (Google's published cost of each call made).",
      labelNames: ['method'] as const,
      registers: [registry],
    }),
    gmailRetries: new Counter({
      name: 'gmail_api_retries_total',
      help: 'Gmail calls retried after a 429, a rate-limit 403 or a 5xx, by method.',
      labelNames: ['method'] as const,
      registers: [registry],
    }),
    historyResyncs: new Counter({
      name: 'gmail_history_resyncs_total',
      help: 'Mailbox syncs that found the history since the cursor expired (history.list 404) and resynced the inbox.',
      registers: [registry],
    }),
    messagesSkipped: new Counter({
      name: 'gmail_messages_skipped_total',
      help: 'Listed messages not processed, by reason (gone: messages.get kept answering 404).',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    pushes: new Counter({
      name: 'gmail_pushes_total',
      help: 'Gmail notifications taken (push webhook or pull), by outcome.',
      labelNames: ['source', 'outcome'] as const,
      registers: [registry],
    }),
    watchRenewals: new Counter({
      name: 'gmail_watch_renewals_total',
      help: 'Gmail watch calls by outcome (ok, failed).',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    replies: new Counter({
      name: 'replies_total',
      help: 'Replies that reached a final state, by outcome (sent, recovered, cancelled, failed) and reason.',
      labelNames: ['outcome', 'reason'] as const,
      registers: [registry],
    }),
    llmDuration: new Histogram({
      name: 'llm_request_duration_seconds',
      help: 'Duration of LLM chat-completion calls (including the client retries), by outcome.',
      labelNames: ['outcome'] as const,
      buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 40],
      registers: [registry],
    }),
    watchesFailing: new Gauge({
      name: 'gmail_watches_failing',
      help: 'Connected mailboxes whose Gmail watch could not be started or renewed.',
      registers: [registry],
      async collect() {
        if (sources.failingWatches) this.set(await sources.failingWatches());
      },
    }),
    httpDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: "Duration of HTTP requests, by the router's route pattern (unmatched: no route), method and status.",
      labelNames: ['route', 'method', 'status'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    queueJobs: new Gauge({
      name: 'bullmq_queue_jobs',
      help: 'Jobs in each queue by state, read from Redis at scrape time.',
      labelNames: ['queue', 'state'] as const,
      registers: [registry],
      async collect() {
        if (!sources.queueSizes) return;
        for (const { queue, counts } of await sources.queueSizes()) {
          for (const state of QUEUE_STATES) this.set({ queue, state }, counts[state] ?? 0);
        }
      },
    }),
    jobDuration: new Histogram({
      name: 'job_duration_seconds',
      help: 'Duration of job runs by queue and outcome (completed, failed: the attempt threw, delayed: put back until later).',
      labelNames: ['queue', 'outcome'] as const,
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers: [registry],
    }),
    jobFailures: new Counter({
      name: 'job_failures_total',
      help: 'Failed job attempts by queue; final="true" when the job failed for good (no attempt left, or an error no retry can fix).',
      labelNames: ['queue', 'final'] as const,
      registers: [registry],
    }),
    watchEarliestExpiry: new Gauge({
      name: 'gmail_watch_earliest_expiry_timestamp_seconds',
      help: 'Unix time at which the first Gmail watch of a connected mailbox expires (NaN when no mailbox is watched).',
      registers: [registry],
      async collect() {
        if (!sources.earliestWatchExpiry) return;
        const at = await sources.earliestWatchExpiry();
        this.set(at ? at.getTime() / 1000 : Number.NaN);
      },
    }),
  };
  return metrics;
}

export type Metrics = ReturnType<typeof createMetrics>;
