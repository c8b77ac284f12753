/**
 * Reads an RFC 822 message (the `raw` form Gmail returns) into the few facts the product needs:
 * addresses, subject, threading ids, date and one readable text body.
 *
 * The MIME work is done by maintained libraries; this file is glue:
 * - mailparser (with mailsplit underneath) splits the MIME tree, undoes the transfer encodings,
 *   converts charsets (libmime: iconv-lite, encoding-japanese for ISO-2022-JP) and unwraps
 *   format=flowed. It is lenient with broken boundaries and missing headers.
 * - libmime decodes RFC 2047 encoded words in header values.
 * - html-to-text turns an HTML-only body into readable text.
 *
 * Choices made here (see the tests in test/unit/mail and test/corpus):
 * - The body is the message's own text: `ignoreEmbedded` keeps every attached message/rfc822 out
 *   of it, and `keepDeliveryStatus` keeps the machine-readable part of a bounce out of it.
 * - text/plain wins over text/html (multipart/alternative); the HTML is used only when there is
 *   no plain text with content.
 * - Header bytes that are not valid UTF-8 (raw 8-bit, invalid per RFC 5322 but common in old
 *   mail) are read as windows-1252 instead of becoming U+FFFD.
 */
import { simpleParser, parseAddressHeader, type EmailAddress, type HeaderLines } from 'mailparser';
import { Headers as MimeHeaders } from '@zone-eu/mailsplit';
import libmime from 'libmime';

export interface MailAddress {
  /** The address as written (not lower-cased). */
  address: string;
  /** The display name, decoded; '' if none. */
  name: string;
}

export type BodyKind = 'plain' | 'html-only' | 'none';

export interface ParsedMail {
  from: MailAddress | null;
  to: MailAddress[];
  cc: MailAddress[];
  replyTo: MailAddress | null;
  /** Decoded, folding removed, trimmed; '' if none. */
  subject: string;
  /** '<...>' form; null if absent. */
  messageId: string | null;
  /** '<...>' form, the first id; null if absent. */
  inReplyTo: string | null;
  /** Every <...> id across all References headers, in order, without duplicates. */
  references: string[];
  /** null if absent or unparseable. */
  date: Date | null;
  /** The readable body with LF line endings; '' if none. */
  text: string;
  bodyKind: BodyKind;
  /** Values of a top-level header (case-insensitive name), unfolded, encoded words decoded; [] if absent. */
  header(name: string): string[];
  /** Top-level MIME type, lower-case, e.g. 'multipart/report'. */
  contentType: string;
}

/** Thrown only for input that holds no message at all. */
export class EmptyMailError extends Error {
  readonly code = 'mail_empty';
  constructor() {
    super('the message is empty');
    this.name = 'EmptyMailError';
  }
}

interface HtmlToTextOptions {
  wordwrap?: number | false | null;
  selectors?: Array<{ selector: string; format?: string; options?: Record<string, unknown> }>;
  limits?: { maxDepth?: number; maxInputLength?: number };
}
// html-to-text ships no type declarations; this is the one function used from it.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { htmlToText } = require('html-to-text') as {
  htmlToText: (html: string, options?: HtmlToTextOptions) => string;
};

const HTML_TO_TEXT_OPTIONS: HtmlToTextOptions = {
  wordwrap: false,
  selectors: [
    // visible text only: no "[http://...]" after links, no image placeholders
    { selector: 'a', options: { ignoreHref: true } },
    { selector: 'img', format: 'skip' },
    // table cells on their own lines, otherwise layout tables run words together
    { selector: 'td', format: 'block' },
    { selector: 'th', format: 'block' },
    ...['h1', 'h2', 'h3', 'h4', 'h5', 'h6'].map((selector) => ({ selector, options: { uppercase: false } })),
  ],
  // the same limit mailparser uses for its own conversion
  limits: { maxDepth: 256 },
};

/** The mailparser options: see the file comment for why each is set. */
const PARSER_OPTIONS = {
  ignoreEmbedded: true,
  keepDeliveryStatus: true,
  skipHtmlToText: true,
  skipTextToHtml: true,
  skipImageLinks: true,
  skipTextLinks: true,
  keepCidLinks: true,
  checksumAlgo: false as const,
};

const utf8Strict = new TextDecoder('utf-8', { fatal: true });
const windows1252 = new TextDecoder('windows-1252');

/** Header lines arrive as 'binary' strings (one char per byte). */
function headerBytesToString(binary: string): string {
  const bytes = Buffer.from(binary, 'binary');
  try {
    return utf8Strict.decode(bytes);
  } catch {
    return windows1252.decode(bytes);
  }
}

function decodeWords(value: string): string {
  try {
    return libmime.decodeWords(value);
  } catch {
    return value;
  }
}

function normaliseLineEnds(text: string): string {
  return text.replace(/\r\n?/g, '\n');
}

/** The raw top-level header block, for the rare case where mailparser itself gave up. */
function headerLinesFromRaw(raw: Buffer): HeaderLines {
  let end = raw.length;
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] !== 0x0a) continue;
    const next = raw[i + 1] === 0x0d ? raw[i + 2] : raw[i + 1];
    if (next === 0x0a || next === undefined) {
      end = i + 1;
      break;
    }
  }
  try {
    return new MimeHeaders(raw.subarray(0, end)).getList();
  } catch {
    return [];
  }
}

/** A header's value: field name dropped, folding removed, bytes decoded, encoded words decoded. */
function headerValue(line: string): string {
  const text = headerBytesToString(line);
  const colon = text.indexOf(':');
  const value = (colon >= 0 ? text.slice(colon + 1) : text).replace(/\r?\n(?=[ \t])/g, '').trim();
  return value;
}

const MSG_ID = /<[^<>\s]+>/g;

function messageIds(values: string[]): string[] {
  const ids: string[] = [];
  for (const value of values) ids.push(...(value.match(MSG_ID) ?? []));
  return ids;
}

/** The first <...> id, or a bare token given without brackets (as some old clients write it). */
function firstMessageId(value: string | undefined): string | null {
  if (value === undefined) return null;
  const bracketed = value.match(MSG_ID);
  if (bracketed) return bracketed[0];
  const bare = value.trim();
  if (bare && /^[^\s<>()"]+@[^\s<>()"]+$/.test(bare)) return `<${bare}>`;
  return null;
}

function addresses(values: string[]): MailAddress[] {
  if (values.length === 0) return [];
  let parsed: EmailAddress[];
  try {
    parsed = parseAddressHeader(values, { flatten: true, decodePunycode: false }).value;
  } catch {
    return [];
  }
  const out: MailAddress[] = [];
  for (const entry of parsed) {
    if (entry.address) out.push({ address: entry.address, name: (entry.name ?? '').trim() });
  }
  return out;
}

function parseDate(value: string | undefined): Date | null {
  if (!value) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

function decodeCharset(content: Buffer, charset: string | undefined): string {
  try {
    return new TextDecoder(charset || 'utf-8').decode(content);
  } catch {
    return content.toString('utf8');
  }
}

interface Body {
  text: string;
  bodyKind: BodyKind;
}

function htmlBodyToText(html: string): string {
  try {
    return htmlToText(html, HTML_TO_TEXT_OPTIONS);
  } catch {
    // HTML the converter cannot handle: drop the markup crudely rather than lose the mail
    return html.replace(/<(style|script|head)[\s\S]*?<\/\1>/gi, ' ').replace(/<[^>]*>/g, ' ');
  }
}

function finishText(text: string): string {
  // NUL has no place in text (a broken or hostile mail): dropped rather than stored and shown.
  return normaliseLineEnds(text).replace(/\u00a0/g, ' ').replace(/\u0000/g, '');
}

async function parseBody(raw: Buffer): Promise<{ body: Body; headerLines: HeaderLines | null }> {
  let mail;
  try {
    mail = await simpleParser(raw, PARSER_OPTIONS);
  } catch {
    return { body: { text: '', bodyKind: 'none' }, headerLines: null };
  }
  const plain = typeof mail.text === 'string' ? mail.text : undefined;
  const html = typeof mail.html === 'string' ? mail.html : undefined;
  let body: Body;
  if (plain !== undefined && plain.trim() !== '') {
    body = { text: plain, bodyKind: 'plain' };
  } else if (html !== undefined) {
    body = { text: htmlBodyToText(html), bodyKind: 'html-only' };
  } else if (plain !== undefined) {
    body = { text: plain, bodyKind: 'plain' };
  } else {
    // mailparser files a text part under attachments when its Content-Disposition is neither
    // "inline" nor "attachment" (RFC 2183 says to treat unknown ones as attachment). Mail clients
    // and Python's get_body() still show such a part, unnamed, as the body; so do we.
    const shown = (type: string) =>
      mail.attachments.find(
        (a) => a.contentType === type && !a.filename && (a.contentDisposition ?? '').toLowerCase() !== 'attachment',
      );
    const part = shown('text/plain') ?? shown('text/html');
    if (part) {
      const content = decodeCharset(part.content, contentCharset(part));
      body =
        part.contentType === 'text/plain'
          ? { text: content, bodyKind: 'plain' }
          : { text: htmlBodyToText(content), bodyKind: 'html-only' };
    } else {
      body = { text: '', bodyKind: 'none' };
    }
  }
  return { body: { text: finishText(body.text), bodyKind: body.bodyKind }, headerLines: mail.headerLines ?? null };
}

function contentCharset(part: { headers: Map<string, unknown> }): string | undefined {
  const ct = part.headers.get('content-type') as { params?: Record<string, string> } | undefined;
  return ct?.params?.charset;
}

/** Parses one RFC 822 message. Throws EmptyMailError only when there is nothing to parse. */
export async function parseMail(raw: Buffer): Promise<ParsedMail> {
  if (!raw.some((byte) => byte !== 0x20 && byte !== 0x09 && byte !== 0x0d && byte !== 0x0a)) throw new EmptyMailError();

  const { body, headerLines } = await parseBody(raw);
  const lines = (headerLines ?? headerLinesFromRaw(raw)).filter((l) => l.key);

  const cache = new Map<string, string[]>();
  const rawValues = (name: string): string[] => {
    const key = name.trim().toLowerCase();
    let values = cache.get(key);
    if (!values) {
      values = lines.filter((l) => l.key === key).map((l) => headerValue(l.line));
      cache.set(key, values);
    }
    return values;
  };
  const header = (name: string): string[] => rawValues(name).map(decodeWords);

  const from = addresses(rawValues('from').slice(0, 1))[0] ?? null;
  const replyTo = addresses(rawValues('reply-to').slice(0, 1))[0] ?? null;
  const subject = (header('subject')[0] ?? '').replace(/\s*[\r\n]+\s*/g, ' ').replace(/\u0000/g, '').trim();

  let contentType = 'text/plain';
  const ctRaw = rawValues('content-type')[0];
  if (ctRaw) {
    const value = libmime.parseHeaderValue(ctRaw).value.trim().toLowerCase();
    if (/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(value)) contentType = value;
  }

  return {
    from,
    to: addresses(rawValues('to')),
    cc: addresses(rawValues('cc')),
    replyTo,
    subject,
    messageId: firstMessageId(rawValues('message-id')[0]),
    inReplyTo: firstMessageId(rawValues('in-reply-to')[0]),
    references: [...new Set(messageIds(rawValues('references')))],
    date: parseDate(rawValues('date')[0]),
    text: body.text,
    bodyKind: body.bodyKind,
    header,
    contentType,
  };
}
