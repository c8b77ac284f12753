import { randomBytes } from 'node:crypto';
import type { StoredMessage } from './gmail-store';
import type { MimeHeader, MimePart } from './mime-tree';

/**
 * Gmail's Message resource (https://developers.google.com/gmail/api/reference/rest/v1/users.messages)
 * built from a stored message, for each `format`. Like Gmail: body data is base64url of the
 * transfer-decoded bytes; parts with a filename carry an attachmentId instead of data (a fresh
 * attachmentId on every call, as Gmail's change between calls); empty arrays are left out.
 */

export type MessageFormat = 'full' | 'metadata' | 'minimal' | 'raw';
export const MESSAGE_FORMATS: readonly MessageFormat[] = ['full', 'metadata', 'minimal', 'raw'];

export interface PartBody {
  size: number;
  data?: string;
  attachmentId?: string;
}

export interface PayloadPart {
  partId?: string;
  mimeType: string;
  filename?: string;
  headers: MimeHeader[];
  body?: PartBody;
  parts?: PayloadPart[];
}

export interface MessageResource {
  id: string;
  threadId: string;
  labelIds?: string[];
  snippet: string;
  historyId: string;
  internalDate: string;
  sizeEstimate: number;
  payload?: PayloadPart;
  raw?: string;
}

export function messageResource(m: StoredMessage, format: MessageFormat, metadataHeaders: string[] = []): MessageResource {
  const base: MessageResource = {
    id: m.id,
    threadId: m.threadId,
    ...(m.labelIds.length > 0 ? { labelIds: [...m.labelIds] } : {}),
    snippet: m.snippet,
    sizeEstimate: m.raw.length,
    historyId: String(m.historyId),
    internalDate: String(m.internalDate),
  };
  switch (format) {
    case 'minimal':
      return base;
    case 'raw':
      return { ...base, raw: m.raw.toString('base64url') };
    case 'metadata': {
      const wanted = metadataHeaders.map((h) => h.toLowerCase());
      const headers = wanted.length > 0 ? m.tree.headers.filter((h) => wanted.includes(h.name.toLowerCase())) : m.tree.headers;
      return { ...base, payload: { mimeType: m.tree.mimeType, headers } };
    }
    case 'full':
      return { ...base, payload: fullPart(m.id, m.tree) };
  }
}

function fullPart(messageId: string, part: MimePart): PayloadPart {
  const out: PayloadPart = { partId: part.partId, mimeType: part.mimeType, filename: part.filename, headers: part.headers };
  if (part.body === undefined) {
    out.body = { size: 0 };
  } else if (part.isAttachment) {
    out.body = { attachmentId: encodeAttachmentId(messageId, part.partId), size: part.body.length };
  } else {
    out.body = part.body.length > 0 ? { size: part.body.length, data: part.body.toString('base64url') } : { size: 0 };
  }
  if (part.parts.length > 0) out.parts = part.parts.map((p) => fullPart(messageId, p));
  return out;
}

/** Opaque, different on every call, but resolvable without server-side state. */
export function encodeAttachmentId(messageId: string, partId: string): string {
  return `ANGjdJ${Buffer.from(`${messageId}|${partId}|${randomBytes(12).toString('base64url')}`).toString('base64url')}`;
}

export function decodeAttachmentId(attachmentId: string): { messageId: string; partId: string } | undefined {
  if (!attachmentId.startsWith('ANGjdJ')) return undefined;
  const [messageId, partId] = Buffer.from(attachmentId.slice(6), 'base64url').toString('utf8').split('|');
  if (messageId === undefined || partId === undefined) return undefined;
  return { messageId, partId };
}
