import type Koa from 'koa';
import { randomUUID } from 'node:crypto';
import type { Logger } from '../../observability/logger';

declare module 'koa' {
  interface DefaultState {
    requestId: string;
    log: Logger;
  }
}

const REQUEST_ID = /^[A-Za-z0-9._-]{8,128}$/;

/** Gives every request an id (taken from X-Request-Id when well-formed) and a child logger carrying it. */
export function requestContext(logger: Logger): Koa.Middleware {
  return async (ctx, next) => {
    const given = ctx.get('x-request-id');
    const requestId = REQUEST_ID.test(given) ? given : randomUUID();
    ctx.state.requestId = requestId;
    ctx.state.log = logger.child({ requestId });
    ctx.set('X-Request-Id', requestId);
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const route = (ctx as unknown as { _matchedRoute?: string })._matchedRoute;
      ctx.state.log.info({ method: ctx.method, route: route ?? null, status: ctx.status, ms: Math.round(ms * 10) / 10 }, 'request');
    }
  };
}
