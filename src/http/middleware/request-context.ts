import type Koa from 'koa';
import { randomUUID } from 'node:crypto';
import { REDACTED_FIELD_NAMES, type Logger } from '../../observability/logger';
import { runWithLogContext } from '../../observability/log-context';
import { routePattern } from '../route-pattern';

declare module 'koa' {
  interface DefaultState {
    requestId: string;
    /** The process's logger: a line about the request puts `requestId` on itself (see logsFromDeepInside). */
    log: Logger;
    /** Facts a route adds to the request's log line (ids and outcomes only), instead of a line of its own. */
    logFields?: Record<string, string | number | boolean | null>;
  }
}

const REQUEST_ID = /^[A-Za-z0-9._-]{8,128}$/;

/**
 * Requests whose work logs from deep inside (Google calls, token refreshes, retries: sign-in and
 * sign-out, account deletion, operators' routes, the sandbox standing in for Google under /sandbox,
 * /gmail and /upload/gmail). Only these run
 * in a log context (log-context.ts), whose promise hooks would otherwise cost every request; the
 * others (contacts, lists, pushes, probes) write their lines here and in the error handler, with the
 * request id put on explicitly.
 */
const DEEP_LOGGING_PATHS = /^\/(?:auth|admin|sandbox|gmail|upload)\//;

function logsFromDeepInside(ctx: Koa.Context): boolean {
  return DEEP_LOGGING_PATHS.test(ctx.path) || (ctx.path === '/api/me' && ctx.method === 'DELETE');
}

/**
 * Gives every request an id (taken from X-Request-Id when well-formed) that every log line written
 * while it runs carries, and logs one line per request.
 */
export function requestContext(logger: Logger): Koa.Middleware {
  // The request line's fields are flat and named here or by a route (logFields); they are checked
  // by name below, so this line skips pino's redaction, which walked every configured path on
  // every request (a twentieth of a push's CPU).
  const requestLines = logger.child({}, { redact: { paths: [] } });
  return async (ctx, next) => {
    const given = ctx.get('x-request-id');
    const requestId = REQUEST_ID.test(given) ? given : randomUUID();
    ctx.state.requestId = requestId;
    ctx.state.log = logger;
    ctx.set('X-Request-Id', requestId);
    const started = process.hrtime.bigint();
    try {
      await (logsFromDeepInside(ctx) ? runWithLogContext({ requestId }, next) : next());
    } finally {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      requestLines.info({ requestId, method: ctx.method, route: routePattern(ctx), status: ctx.status, ms: Math.round(ms * 10) / 10, ...redactedByName(ctx.state.logFields) }, 'request');
    }
  };
}

function redactedByName(fields: Record<string, string | number | boolean | null> | undefined): Record<string, string | number | boolean | null> | undefined {
  if (!fields) return undefined;
  const out: Record<string, string | number | boolean | null> = {};
  for (const [name, value] of Object.entries(fields)) out[name] = REDACTED_FIELD_NAMES.has(name) ? '[redacted]' : value;
  return out;
}
