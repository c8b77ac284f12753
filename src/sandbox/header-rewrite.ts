import { finished } from 'node:stream/promises';
import type { Transform } from 'node:stream';
import { Joiner, Splitter, type SplitterChunk } from '@zone-eu/mailsplit';
import type Headers from '@zone-eu/mailsplit/lib/headers';

/**
 * Changes the top-level header block of an RFC 822 message and leaves every other byte as it was
 * (mailsplit Splitter → edit the root node's headers → Joiner). Used for what Gmail does to mail it
 * accepts: rewriting From, adding Date and Message-ID, stripping Bcc, prepending trace headers.
 */
export async function rewriteRootHeaders(raw: Buffer, edit: (headers: Headers) => void): Promise<Buffer> {
  const splitter = new Splitter({ ignoreEmbedded: true });
  const joiner = new Joiner();
  const out: Buffer[] = [];
  let edited = false;
  splitter.on('data', (chunk: SplitterChunk) => {
    if (chunk.type === 'node' && chunk.root && !edited && chunk.headers) {
      edited = true;
      edit(chunk.headers);
    }
    joiner.write(chunk);
  });
  joiner.on('data', (b: Buffer) => out.push(b));
  const split = finished(splitter as Transform);
  const joined = finished(joiner as Transform);
  splitter.end(raw);
  await split;
  joiner.end();
  await joined;
  return Buffer.concat(out);
}
