import { bodyParser } from '@koa/bodyparser';
import type Koa from 'koa';
import { AppError, ValidationError } from '../../errors';

export class MalformedJsonError extends AppError {
  constructor(message = 'request body is not valid JSON') {
    super(400, 'malformed_json', message);
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
      const e = err as { status?: number; type?: string; message?: string };
      if (e.status === 413 || e.type === 'entity.too.large') throw new PayloadTooLargeError(limit);
      if (e.status === 415 || e.type === 'encoding.unsupported') throw new AppError(415, 'unsupported_media_type', 'send the body as application/json without a content encoding');
      // The parser refuses keys that could reach an object's prototype; say so instead of "not JSON".
      if (typeof e.message === 'string' && /forbidden prototype property/.test(e.message)) {
        throw new ValidationError('request body has a field named __proto__ or constructor.prototype, which is not accepted', [{ path: 'body', message: 'must not have a field named __proto__ or constructor.prototype' }]);
      }
      throw new MalformedJsonError();
    },
  });
  return async (ctx, next) => {
    // No Content-Type, no body to read (requireJsonBody has refused a body without one).
    if (!ctx.get('content-type')) return next();
    requireUncompressedUtf8(ctx);
    // Codings are case-insensitive (RFC 9110, 8.4.1), but the parser knows only "identity" in lower case; identity means none.
    if (ctx.get('content-encoding')) delete ctx.req.headers['content-encoding'];
    await parse(ctx, async () => undefined);
    // The decoder turns bytes that are not UTF-8 into U+FFFD, and JSON escapes may name half a
    // surrogate pair: either would be stored as replacement characters, so neither is taken.
    const raw = (ctx.request as unknown as { rawBody?: string }).rawBody;
    if ((typeof raw === 'string' && raw.includes('\uFFFD')) || !wellFormed((ctx.request as unknown as { body?: unknown }).body)) {
      throw new MalformedJsonError('request body is not valid UTF-8 text (or holds an unpaired surrogate escape)');
    }
    await next();
  };
}

/**
 * Refuses (415) a body declared in a charset other than UTF-8 (JSON is UTF-8, RFC 8259: it would be
 * read wrongly, not refused) or with a Content-Encoding other than identity.
 */
export function requireUncompressedUtf8(ctx: Koa.Context): void {
  const charset = ctx.request.charset;
  if (charset && !/^utf-?8$/i.test(charset)) throw new AppError(415, 'unsupported_media_type', 'send the body as application/json in UTF-8');
  const encoding = ctx.get('content-encoding');
  if (encoding && encoding.toLowerCase() !== 'identity') throw new AppError(415, 'unsupported_media_type', 'send the body as application/json without a content encoding');
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Whether every string (keys included) of a parsed JSON value is well-formed Unicode. */
function wellFormed(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return !LONE_SURROGATE.test(value);
  if (value === null || typeof value !== 'object' || depth > 64) return true;
  if (Array.isArray(value)) return value.every((v) => wellFormed(v, depth + 1));
  return Object.entries(value).every(([k, v]) => !LONE_SURROGATE.test(k) && wellFormed(v, depth + 1));
}
