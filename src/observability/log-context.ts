import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The ids that tie a log line to what caused it: the HTTP request, or the job (and the request that
 * queued it). Set once where work starts (the request middleware, the job wrapper) and read by the
 * logger for every line written underneath, however deep, without passing a logger around.
 */
export interface LogContext {
  requestId?: string;
  jobId?: string;
  queue?: string;
}

const storage = new AsyncLocalStorage<LogContext>();

export function runWithLogContext<T>(context: LogContext, fn: () => T): T {
  return storage.run(context, fn);
}

export function currentLogContext(): LogContext | undefined {
  return storage.getStore();
}
