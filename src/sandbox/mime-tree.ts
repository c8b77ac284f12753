import type { Transform, PassThrough } from 'node:stream';
import { finished } from 'node:stream/promises';
import { Splitter, type SplitterChunk } from '@zone-eu/mailsplit';
import libmime from 'libmime';

/**
 * Splits an RFC 822 message into the MIME tree that Gmail's `payload` describes, with
 * @zone-eu/mailsplit doing the parsing. Gmail numbers parts from zero ("", "0", "1", "1.0", ...),
 * unfolds header values and decodes RFC 2047 words in them, and gives each leaf its
 * transfer-decoded bytes (charset untouched). An embedded message/rfc822 stays one leaf, as in
 * Gmail's payload.
 */

export interface MimeHeader {
  name: string;
  value: string;
}

export interface MimePart {
  partId: string;
  mimeType: string;
  filename: string;
  headers: MimeHeader[];
  /** Transfer-decoded body of a leaf; undefined for multipart containers. */
  body?: Buffer;
  /** True when the part is an attachment (Gmail then gives an attachmentId instead of data). */
  isAttachment: boolean;
  parts: MimePart[];
}

type SplitterNode = Extract<SplitterChunk, { type: 'node' }>;

interface Building {
  part: MimePart;
  node: SplitterNode;
  chunks: Buffer[];
}

export async function parseMimeTree(raw: Buffer): Promise<MimePart> {
  const splitter = new Splitter({ ignoreEmbedded: true });
  const byNode = new Map<SplitterNode, Building>();
  const order: Building[] = [];

  splitter.on('data', (chunk: SplitterChunk) => {
    if (chunk.type === 'node') {
      const parent = chunk.parentNode ? byNode.get(chunk.parentNode as SplitterNode) : undefined;
      const index = parent ? parent.part.parts.length : 0;
      const partId = parent ? (parent.part.partId === '' ? String(index) : `${parent.part.partId}.${index}`) : '';
      const part: MimePart = {
        partId,
        mimeType: chunk.contentType || (parent?.part.mimeType === 'multipart/digest' ? 'message/rfc822' : 'text/plain'),
        filename: chunk.filename || '',
        headers: chunk.headers ? chunk.headers.getList().map((h) => parseHeaderLine(h.line)) : [],
        isAttachment: Boolean(chunk.filename) || chunk.disposition === 'attachment',
        parts: [],
      };
      const building: Building = { part, node: chunk, chunks: [] };
      byNode.set(chunk, building);
      order.push(building);
      if (parent) parent.part.parts.push(part);
    } else if (chunk.type === 'body') {
      byNode.get(chunk.node as SplitterNode)?.chunks.push(chunk.value);
    }
  });
  const done = finished(splitter as Transform);
  splitter.end(raw);
  await done;

  for (const b of order) {
    if (!b.node.multipart) b.part.body = await decode(b.node.getDecoder(), Buffer.concat(b.chunks));
  }
  const root = order[0];
  if (!root) throw new Error('empty message');
  return root.part;
}

function decode(decoder: Transform | PassThrough, input: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    decoder.on('data', (c: Buffer) => out.push(c));
    decoder.on('end', () => resolve(Buffer.concat(out)));
    decoder.on('error', reject);
    decoder.end(input);
  });
}

/** "Subject: =?UTF-8?Q?h=C3=A9?=\r\n  more" → {name: 'Subject', value: 'hé more'} */
export function parseHeaderLine(line: string): MimeHeader {
  const colon = line.indexOf(':');
  const name = colon >= 0 ? line.slice(0, colon).trim() : line.trim();
  const rawValue = colon >= 0 ? line.slice(colon + 1) : '';
  const unfolded = rawValue.replace(/\r?\n(?=[ \t])/g, '').replace(/\r?\n$/, '').trim();
  let value = unfolded;
  try {
    value = libmime.decodeWords(unfolded);
  } catch {
    value = unfolded;
  }
  return { name, value };
}

/** Depth-first list of all parts. */
export function flattenParts(root: MimePart): MimePart[] {
  const out: MimePart[] = [];
  const walk = (p: MimePart) => {
    out.push(p);
    p.parts.forEach(walk);
  };
  walk(root);
  return out;
}
