import type Koa from 'koa';
import { AppError } from '../../errors';

/**
 * HTTP/1.1 requires a Host header (RFC 9112, 3.2). Node would refuse a request without one with an
 * empty 400 (client-errors.ts turns that off); here it gets the product's JSON error instead.
 */
export function requireHostHeader(): Koa.Middleware {
  return async (ctx, next) => {
    if (ctx.req.httpVersion === '1.1' && ctx.req.headers.host === undefined) {
      throw new AppError(400, 'bad_request', 'an HTTP/1.1 request needs a Host header');
    }
    await next();
  };
}
