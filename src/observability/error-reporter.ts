import type { Logger } from './logger';
import { scrubEvent } from './scrub';

/**
 * Error tracking (Sentry) of what needs a person: HTTP requests that ended in a 5xx and jobs that
 * failed for good. Without a DSN it is a no-op that never loads the SDK, so nothing leaves the
 * machine. With one, it uses a client of its own (not Sentry's global one, and none of its
 * automatic instrumentation): only what is reported here is sent, scrubbed by `scrubEvent`.
 */
export interface ErrorReporter {
  readonly enabled: boolean;
  httpError(err: unknown, at: { requestId: string; method: string; route: string; status: number }): void;
  jobFailed(err: unknown, at: { queue: string; jobId?: string; requestId?: string; attempts: number }): void;
  /** Waits until what was reported is sent (or the timeout passes); false if some was not. */
  flush(timeoutMs?: number): Promise<boolean>;
  close(timeoutMs?: number): Promise<void>;
}

export interface ErrorReporterOptions {
  dsn: string;
  environment: string;
  release?: string;
  logger: Logger;
}

const DISABLED: ErrorReporter = {
  enabled: false,
  httpError() {},
  jobFailed() {},
  flush: async () => true,
  close: async () => {},
};

export function createErrorReporter(opts: ErrorReporterOptions): ErrorReporter {
  if (!opts.dsn) return DISABLED;
  const Sentry = require('@sentry/node') as typeof import('@sentry/node');
  const client = new Sentry.NodeClient({
    dsn: opts.dsn,
    environment: opts.environment,
    release: opts.release,
    transport: Sentry.makeNodeTransport,
    stackParser: Sentry.defaultStackParser,
    integrations: [Sentry.linkedErrorsIntegration(), Sentry.dedupeIntegration()],
    dataCollection: { userInfo: false, cookies: false, httpHeaders: false, httpBodies: [], urlQueryParams: false },
    sendClientReports: false,
    enableRuntimeChannelInjection: false,
    maxBreadcrumbs: 0,
    beforeSend: (event) => scrubEvent(event as unknown as Parameters<typeof scrubEvent>[0]) as unknown as typeof event,
  });
  const scope = new Sentry.Scope();
  scope.setClient(client);
  client.init();

  const capture = (err: unknown, tags: Record<string, string | undefined>) => {
    const defined = Object.fromEntries(Object.entries(tags).filter((entry): entry is [string, string] => entry[1] !== undefined));
    const eventScope = scope.clone();
    eventScope.setTags(defined);
    eventScope.captureException(err instanceof Error ? err : new Error(String(err)));
  };

  return {
    enabled: true,
    httpError(err, at) {
      capture(err, { kind: 'http', request_id: at.requestId, method: at.method, route: at.route, status: String(at.status) });
    },
    jobFailed(err, at) {
      capture(err, { kind: 'job', queue: at.queue, job_id: at.jobId, request_id: at.requestId, attempts: String(at.attempts) });
    },
    async flush(timeoutMs = 2000) {
      return client.flush(timeoutMs);
    },
    async close(timeoutMs = 2000) {
      const sent = await client.close(timeoutMs);
      if (!sent) opts.logger.warn({ timeoutMs }, 'error reports not all sent before shutdown');
    },
  };
}
