import type Koa from 'koa';
import { AppError } from '../../errors';
import type { ErrorReporter } from '../../observability/error-reporter';
import { routePattern } from '../route-pattern';

function statusOf(err: unknown): number {
  if (err instanceof AppError) return err.status;
  const { status, statusCode } = (err ?? {}) as { status?: unknown; statusCode?: unknown };
  const given = typeof status === 'number' ? status : typeof statusCode === 'number' ? statusCode : 500;
  return given >= 400 && given < 600 ? given : 500;
}

/**
 * Sits just inside the error handler: an error that will answer 5xx goes to error tracking (with
 * the request id, method and route pattern, nothing of the request itself), then on to the handler.
 */
export function reportServerErrors(errors: ErrorReporter): Koa.Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      const status = statusOf(err);
      if (status >= 500) errors.httpError(err, { requestId: ctx.state.requestId, method: ctx.method, route: routePattern(ctx), status });
      throw err;
    }
  };
}
