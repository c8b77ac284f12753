import type Koa from 'koa';
import { AppError } from '../../errors';

/** The methods of our routes that change state; any other method is answered 405 by the routers. */
const STATE_CHANGING_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Methods a cross-site HTML form cannot send; a browser sends them cross-origin only after a CORS preflight. */
const NON_SIMPLE_METHODS = new Set(['PUT', 'PATCH', 'DELETE']);

function originOf(ctx: Koa.Context): string | null {
  const origin = ctx.get('origin');
  if (origin) return origin;
  const referer = ctx.get('referer');
  if (!referer) return null;
  try {
    return new URL(referer).origin;
  } catch {
    return null;
  }
}

function hasBody(ctx: Koa.Context): boolean {
  return Number(ctx.get('content-length') || 0) > 0 || ctx.get('transfer-encoding') !== '';
}

/**
 * Cross-site request forgery defence for the cookie-authenticated routes: a state-changing request
 * is refused unless it comes from an allowed origin (Origin, or else Referer; 403) and carries
 * something a cross-site form cannot: a JSON content type (415 for any other body), a non-simple
 * method, or X-Requested-With (403).
 */
export function csrfProtection(allowedOrigins: string[]): Koa.Middleware {
  const allowed = new Set(allowedOrigins);
  return async (ctx, next) => {
    if (STATE_CHANGING_METHODS.has(ctx.method)) {
      const origin = originOf(ctx);
      if (!origin) throw new AppError(403, 'csrf_origin_missing', 'a state-changing request must carry an Origin header');
      if (!allowed.has(origin)) throw new AppError(403, 'csrf_origin_refused', 'requests from this origin are not allowed');
      // A body must be JSON (a content type no cross-site form can send); a request without one must
      // use a method or a header that a form cannot.
      // The declared type, body or not (ctx.is() answers null without a body).
      // Media types are case-insensitive (RFC 9110, 8.3.1); none of their spellings is one a form can send.
      const isJson = /^application\/(?:[a-z0-9.+-]+\+)?json$/i.test(ctx.request.type);
      if (hasBody(ctx)) {
        if (!isJson) throw new AppError(415, 'unsupported_media_type', 'send the body as application/json');
      } else if (!isJson && !NON_SIMPLE_METHODS.has(ctx.method) && !ctx.get('x-requested-with')) {
        throw new AppError(403, 'csrf_simple_request', 'a request without a JSON body needs an X-Requested-With header');
      }
    }
    await next();
  };
}
