import type Koa from 'koa';
import { AppError } from '../../errors';

interface HttpishError {
  headers?: Record<string, string | number>;
  status?: number;
  statusCode?: number;
  expose?: boolean;
  type?: string;
  message?: string;
}

/** Codes for errors that come from Koa and its body parser rather than from our code. */
function codeForHttpError(err: HttpishError, status: number): { code: string; message: string } {
  if (err.type === 'entity.too.large' || status === 413) return { code: 'payload_too_large', message: 'request body is too large' };
  if (err.type === 'entity.parse.failed') return { code: 'malformed_json', message: 'request body is not valid JSON' };
  if (status === 415) return { code: 'unsupported_media_type', message: 'send the body as application/json' };
  if (status === 405) return { code: 'method_not_allowed', message: 'method not allowed on this route' };
  if (status === 404) return { code: 'not_found', message: 'no such route' };
  if (status === 429) return { code: 'rate_limited', message: 'too many requests; retry after the time in Retry-After' };
  return { code: 'bad_request', message: err.expose && err.message ? err.message : 'bad request' };
}

/** The methods of the routes that matched the path (the router throws 405 without saying them). */
function allowedMethods(ctx: Koa.Context): string {
  const matched = (ctx as unknown as { matched?: Array<{ methods: string[] }> }).matched ?? [];
  return [...new Set(matched.flatMap((layer) => layer.methods))].join(', ');
}

/**
 * What of an unexpected error may reach the log: database errors carry the offending values in
 * `detail` (an address, a token), so only the name, code, message and stack are kept.
 */
function loggableError(err: Error & { code?: unknown; constraint?: unknown }): Record<string, unknown> {
  // PostgreSQL quotes the value it refused in the message too (`invalid input syntax for type uuid: "…"`).
  const fromDatabase = typeof err.code === 'string' && /^[0-9A-Z]{5}$/.test(err.code);
  const message = fromDatabase ? err.message.replace(/"[^"]*"/g, '"[redacted]"') : err.message;
  const stack = fromDatabase && err.stack ? err.stack.split(err.message).join(message) : err.stack;
  return { name: err.name, code: err.code, constraint: err.constraint, message, stack };
}

/**
 * The one place that turns errors into `{"error": {code, message, details}}`. Our AppErrors keep
 * their code; HTTP errors raised by Koa or the body parser get a stable code; anything else is a
 * 500 with no internal detail (the full error goes to the log).
 */
export function errorHandler(): Koa.Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        ctx.status = 404;
        ctx.body = { error: { code: 'not_found', message: 'no such route', details: [] } };
      }
    } catch (caught) {
      const err = caught as HttpishError & Error;
      if (caught instanceof AppError) {
        ctx.status = caught.status;
        for (const [name, value] of Object.entries(caught.headers)) ctx.set(name, value);
        ctx.body = { error: { code: caught.code, message: caught.message, details: caught.details } };
        return;
      }
      // The router answers a method it does not know at all with 501: for the client it is one
      // more method this route does not allow.
      const raw = err.status ?? err.statusCode;
      const status = raw === 501 ? 405 : raw;
      if (status && status >= 400 && status < 500) {
        const { code, message } = codeForHttpError(err, status);
        ctx.status = status;
        for (const [name, value] of Object.entries(err.headers ?? {})) ctx.set(name, String(value));
        if (status === 405) ctx.set('Allow', allowedMethods(ctx));
        ctx.body = { error: { code, message, details: [] } };
        return;
      }
      ctx.state.log?.error({ requestId: ctx.state.requestId, err: loggableError(err) }, 'unhandled error');
      ctx.status = 500;
      ctx.body = { error: { code: 'internal_error', message: 'internal error', details: [] } };
    }
  };
}
