import getRawBody from 'raw-body';
import type Koa from 'koa';
import { UnreadablePushError } from '../../gmail/push-notification';
import { PayloadTooLargeError, requireUncompressedUtf8 } from './json-body';

/**
 * Reads the JSON body of a Pub/Sub push. Leaner than jsonBody (the API's parser, which checks every
 * string of a body that will be stored): a push is small JSON of which the route reads two fields,
 * and an authentic body that cannot be read is acknowledged rather than refused, so that Pub/Sub
 * does not redeliver it forever (UnreadablePushError). Too large, compressed or not UTF-8 is
 * refused, as on the API; a JSON body is read whatever Content-Type it declares (the token
 * authenticated it, and Pub/Sub sends nothing but JSON).
 */
export async function readPushBody(ctx: Koa.Context, limit: string): Promise<unknown> {
  requireUncompressedUtf8(ctx);
  let text: string;
  try {
    text = await getRawBody(ctx.req, { limit, length: ctx.get('content-length') || undefined, encoding: 'utf-8' });
  } catch (err) {
    if ((err as { type?: string }).type === 'entity.too.large') throw new PayloadTooLargeError(limit);
    throw new UnreadablePushError('malformed body'); // aborted, or shorter or longer than its Content-Length
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new UnreadablePushError('malformed body');
  }
}
