import { bodyParser } from '@koa/bodyparser';
import type Koa from 'koa';
import { AppError } from '../../errors';

export class MalformedJsonError extends AppError {
  constructor() {
    super(400, 'malformed_json', 'request body is not valid JSON');
  }
}

export class PayloadTooLargeError extends AppError {
  constructor(limit: string) {
    super(413, 'payload_too_large', `request body is larger than ${limit}`);
  }
}

/**
 * Parses a JSON body into ctx.request.body, with a size limit. Parser failures become our typed
 * errors (the parser's own error carries the raw body, which must never reach a log).
 */
export function jsonBody(limit: string): Koa.Middleware {
  const parse = bodyParser({
    enableTypes: ['json'],
    extendTypes: { json: ['application/json', 'application/*+json'] },
    jsonLimit: limit,
    encoding: 'utf-8',
    // Any JSON value parses; routes then say what they expected ("must be a JSON object").
    jsonStrict: false,
    onError(err) {
      const e = err as { status?: number; type?: string };
      if (e.status === 413 || e.type === 'entity.too.large') throw new PayloadTooLargeError(limit);
      if (e.status === 415 || e.type === 'encoding.unsupported') throw new AppError(415, 'unsupported_media_type', 'send the body as application/json without a content encoding');
      throw new MalformedJsonError();
    },
  });
  // JSON is UTF-8 (RFC 8259): a body declared in another charset would be read wrongly, not refused.
  return async (ctx, next) => {
    const charset = ctx.request.charset;
    if (charset && !/^utf-?8$/i.test(charset)) throw new AppError(415, 'unsupported_media_type', 'send the body as application/json in UTF-8');
    await parse(ctx, next);
  };
}
