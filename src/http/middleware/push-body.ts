import getRawBody from 'raw-body';
import type Koa from 'koa';
import { AppError } from '../../errors';
import { PayloadTooLargeError } from './json-body';

/** What a push delivery's body held: its parsed JSON, or nothing readable. */
export type PushBody = { readable: true; value: unknown } | { readable: false };

/**
 * Reads the JSON body of a Pub/Sub push. Leaner than jsonBody (the API's parser, which checks every
 * string of a body that will be stored): a push is small JSON of which the route reads two fields,
 * and an authentic body that cannot be read is acknowledged rather than refused, so that Pub/Sub
 * does not redeliver it forever. Too large, compressed or not UTF-8 is refused, as on the API; a
 * JSON body is read whatever Content-Type it declares.
 */
export async function readPushBody(ctx: Koa.Context, limit: string): Promise<PushBody> {
  const encoding = ctx.get('content-encoding');
  if (encoding && encoding.toLowerCase() !== 'identity') throw new AppError(415, 'unsupported_media_type', 'send the body as application/json without a content encoding');
  // Whatever type it declares: the token authenticated it, and Pub/Sub sends nothing but JSON.
  const charset = ctx.request.charset;
  if (charset && !/^utf-?8$/i.test(charset)) throw new AppError(415, 'unsupported_media_type', 'send the body as application/json in UTF-8');
  let text: string;
  try {
    text = await getRawBody(ctx.req, { limit, length: ctx.get('content-length') || undefined, encoding: 'utf-8' });
  } catch (err) {
    if ((err as { type?: string }).type === 'entity.too.large') throw new PayloadTooLargeError(limit);
    return { readable: false }; // aborted, or shorter or longer than its Content-Length
  }
  try {
    return { readable: true, value: JSON.parse(text) };
  } catch {
    return { readable: false };
  }
}
