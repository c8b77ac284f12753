import type Koa from 'koa';
import { bodyParser } from '@koa/bodyparser';

/**
 * Request bodies of the sandbox routes. The sandbox parses its own bodies (it is mounted before the
 * app's parsers), so a body already parsed upstream is reused as is.
 */

/** JSON and form bodies into ctx.request.body; big enough for a 35 MB message in base64. */
export const sandboxBodyParser = bodyParser({
  enableTypes: ['json', 'form'],
  jsonLimit: '50mb',
  formLimit: '1mb',
  encoding: 'utf-8',
});

export class BodyTooLargeError extends Error {}

/** The request body as bytes (for message/rfc822 and multipart/related uploads). */
export async function readRawBody(ctx: Koa.Context, limitBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += b.length;
    if (size > limitBytes) throw new BodyTooLargeError(`body larger than ${limitBytes} bytes`);
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

export function bodyObject(ctx: Koa.Context): Record<string, unknown> {
  const body = ctx.request.body;
  return body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
}

/** Query parameter as a list (repeated `?a=1&a=2`, or comma-separated). */
export function queryList(ctx: Koa.Context, name: string): string[] {
  const value = ctx.query[name];
  const list = value === undefined ? [] : Array.isArray(value) ? value : [value];
  return list.flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v.length > 0);
}

export function queryString(ctx: Koa.Context, name: string): string | undefined {
  const value = ctx.query[name];
  if (Array.isArray(value)) return value[0];
  return value;
}

export function bearerToken(ctx: Koa.Context): string | undefined {
  const header = ctx.get('authorization');
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}
