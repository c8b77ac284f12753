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

/**
 * How many runs are in progress. On Node.js 20 an enabled AsyncLocalStorage installs promise hooks
 * that every promise of the process pays for (about 15 % of a light request's CPU, measured by the
 * bench); so the storage is disabled whenever no run is in progress, and requests that never log
 * from deep inside (see request-context.ts) do not pay for it.
 */
let runsInProgress = 0;

function runEnded(): void {
  runsInProgress -= 1;
  if (runsInProgress === 0) storage.disable();
}

/** Runs fn (sync or async) with the context; lines written underneath carry it until fn has settled. */
export function runWithLogContext<T>(context: LogContext, fn: () => T): T {
  runsInProgress += 1;
  let result: T;
  try {
    result = storage.run(context, fn);
  } catch (err) {
    runEnded();
    throw err;
  }
  if (result instanceof Promise) return result.finally(runEnded) as T;
  runEnded();
  return result;
}

export function currentLogContext(): LogContext | undefined {
  return storage.getStore();
}
