import type Koa from 'koa';
import type { Metrics } from '../../observability/metrics';
import { routePattern } from '../route-pattern';

/** Observes each request's duration by route pattern, method and final status. */
export function httpMetrics(metrics: Metrics): Koa.Middleware {
  return async (ctx, next) => {
    const stop = metrics.httpDuration.startTimer();
    try {
      await next();
    } finally {
      stop({ route: routePattern(ctx), method: ctx.method, status: String(ctx.status) });
    }
  };
}
