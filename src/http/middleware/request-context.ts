import type Koa from 'koa';
import { randomUUID } from 'node:crypto';
import type { Logger } from '../../observability/logger';
import { runWithLogContext } from '../../observability/log-context';
import { routePattern } from '../route-pattern';

declare module 'koa' {
  interface DefaultState {
    requestId: string;
    log: Logger;
    /** Facts a route adds to the request's log line (ids and outcomes only), instead of a line of its own. */
    logFields?: Record<string, string | number | boolean | null>;
  }
}

const REQUEST_ID = /^[A-Za-z0-9._-]{8,128}$/;

/**
 * Gives every request an id (taken from X-Request-Id when well-formed) that every log line written
 * while it runs carries (see log-context.ts), and logs one line per request.
 */
export function requestContext(logger: Logger): Koa.Middleware {
  return async (ctx, next) => {
    const given = ctx.get('x-request-id');
    const requestId = REQUEST_ID.test(given) ? given : randomUUID();
    ctx.state.requestId = requestId;
    ctx.state.log = logger;
    ctx.set('X-Request-Id', requestId);
    await runWithLogContext({ requestId }, async () => {
      const started = process.hrtime.bigint();
      try {
        await next();
      } finally {
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        logger.info({ method: ctx.method, route: routePattern(ctx), status: ctx.status, ms: Math.round(ms * 10) / 10, ...ctx.state.logFields }, 'request');
      }
    });
  };
}
