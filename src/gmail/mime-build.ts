/**
 * Builds the RFC 822 bytes of the assistant's reply, ready for Gmail's messages.send `raw`.
 * nodemailer's MailComposer does the MIME work: encoded words for non-ASCII subjects and display
 * names, a 7-bit-safe transfer encoding (quoted-printable or base64, whichever is shorter) for a
 * UTF-8 text/plain body in any language, folding of long headers, Date and MIME-Version.
 *
 * The headers that make it a well-behaved reply:
 * - In-Reply-To and References (RFC 5322 §3.6.4) and a "Re:" subject keep it in the contact's
 *   thread (Gmail also needs the threadId on send).
 * - Auto-Submitted: auto-replied (RFC 3834 §5) tells other robots not to answer it, and
 *   X-Auto-Response-Suppress: OOF, AutoReply asks Exchange not to send out-of-office answers to it
 *   ([MS-OXCMAIL] §2.2.3.2.20): both keep two robots from looping.
 * - X-Assistant-Reply-Id carries our reply id; the Message-ID is derived from it too, so the sent
 *   mail can be found again after a send whose answer was lost (Gmail search `rfc822msgid:`).
 */
import { domainToASCII } from 'node:url';
import { createHash } from 'node:crypto';
import MailComposer from 'nodemailer/lib/mail-composer';
import type { MailAddress } from './mime-parse';

export interface ReplyMimeInput {
  /** The user (the mailbox owner). */
  from: MailAddress;
  /** The contact. */
  to: MailAddress;
  /** Subject of the mail being answered. */
  subject: string;
  /** Message-ID of the mail being answered. */
  inReplyTo: string | null;
  /** References of the mail being answered. */
  references: string[];
  /** The reply body (UTF-8, any language). */
  text: string;
  /** Our id, sent in X-Assistant-Reply-Id. */
  replyId: string;
  date?: Date;
}

/** The header that carries our reply id (header names are case-insensitive; this is how we write it). */
export const REPLY_ID_HEADER = 'X-Assistant-Reply-Id';

/**
 * At most this many ids in References: the thread's first one and the most recent ones. RFC 5322
 * sets no limit; Netnews practice (RFC 5537 §3.4.4, and 21 ids in the USEFOR drafts it grew from)
 * trims from the second id on and never drops the first; mail clients do the same.
 */
export const MAX_REFERENCES = 21;

/**
 * Prefixes that already mark a reply: "Re:" in any case, with a counter ("Re[2]:", "Re(2):",
 * "Re^2:") or a space before the colon, and the localised ones mail clients write instead
 * (German "AW:", Scandinavian "SV:", Finnish "VS:", Dutch "Antw:", Polish "Odp:", Turkish "Ynt:",
 * Portuguese "RES:", Russian "Отв:"/"Ответ:", Chinese "回复:"/"答复:"/"回覆:").
 */
const REPLY_PREFIX = /^(?:re|aw|sv|vs|antw|odp|ynt|res|отв|ответ)(?:\s*(?:\[\d+\]|\(\d+\)|\^\d+))?\s*[:：]|^(?:回复|答复|回覆)\s*[:：]/iu;

/**
 * The subject of a reply (RFC 5322 §3.6.5): the original subject with "Re: " in front, unless
 * it already starts with a reply prefix, which is then kept exactly as written ("RE: x", "re:x",
 * "AW: x"). A forward is answered like anything else ("Fwd: x" gives "Re: Fwd: x"). Line breaks
 * and runs of whitespace collapse to one space; an empty subject gives "Re:".
 */
export function replySubject(subject: string): string {
  const clean = (subject ?? '').replace(/\s+/g, ' ').trim();
  if (clean === '') return 'Re:';
  if (REPLY_PREFIX.test(clean)) return clean;
  return `Re: ${clean}`;
}

const MSG_ID = /<[^<>\s]+>/g;

/** The <...> ids of a value; a bare "id@host" (written without brackets by old clients) is wrapped. */
function ids(value: string | null | undefined): string[] {
  if (!value) return [];
  const bracketed = value.match(MSG_ID);
  if (bracketed) return bracketed;
  const bare = value.trim();
  return bare && /^[^\s<>()"]+@[^\s<>()"]+$/.test(bare) ? [`<${bare}>`] : [];
}

/**
 * The References of a reply (RFC 5322 §3.6.4): the parent's References followed by the parent's
 * Message-ID (inReplyTo), each id once. A parent id found earlier in the list moves to the end,
 * where it belongs. Long chains are cut to MAX_REFERENCES: the first id (the thread root) and the
 * most recent ones are kept.
 */
export function replyReferences(references: string[], inReplyTo: string | null): string[] {
  const parent = ids(inReplyTo)[0];
  const chain: string[] = [];
  const seen = new Set<string>();
  for (const id of (references ?? []).flatMap((r) => ids(r))) {
    if (id === parent || seen.has(id)) continue;
    seen.add(id);
    chain.push(id);
  }
  if (parent) chain.push(parent);
  if (chain.length <= MAX_REFERENCES) return chain;
  return [chain[0] as string, ...chain.slice(chain.length - (MAX_REFERENCES - 1))];
}

/** The host part used in our Message-IDs: the user's mail domain (ASCII form). */
function messageIdDomain(address: string): string {
  const domain = address.slice(address.lastIndexOf('@') + 1).trim().toLowerCase();
  const ascii = domain ? domainToASCII(domain) : '';
  return /^[a-z0-9.-]+$/.test(ascii) && ascii.includes('.') ? ascii : 'assistant.invalid';
}

/** The Message-ID of the reply with this id, sent from this address (stable across retries). */
export function replyMessageId(replyId: string, fromAddress: string): string {
  const token = /^[A-Za-z0-9._-]{1,64}$/.test(replyId)
    ? replyId
    : createHash('sha256').update(replyId).digest('hex').slice(0, 32);
  return `<assistant-reply.${token}@${messageIdDomain(fromAddress)}>`;
}

/** Header values may not carry line breaks. */
function oneLine(value: string): string {
  return value.replace(/[\r\n]+/g, ' ').trim();
}

/** Builds the reply as RFC 822 bytes (CRLF line endings). */
export async function buildReplyMime(input: ReplyMimeInput): Promise<Buffer> {
  const inReplyTo = ids(input.inReplyTo)[0];
  const references = replyReferences(input.references, input.inReplyTo);
  const composer = new MailComposer({
    from: { name: oneLine(input.from.name ?? ''), address: input.from.address.trim() },
    to: { name: oneLine(input.to.name ?? ''), address: input.to.address.trim() },
    subject: replySubject(input.subject),
    ...(inReplyTo ? { inReplyTo } : {}),
    ...(references.length > 0 ? { references } : {}),
    messageId: replyMessageId(input.replyId, input.from.address),
    date: input.date ?? new Date(),
    text: { content: input.text.replace(/\r\n?/g, '\n'), contentType: 'text/plain; charset=utf-8' },
    headers: {
      'Auto-Submitted': 'auto-replied',
      'X-Auto-Response-Suppress': 'OOF, AutoReply',
      [REPLY_ID_HEADER]: oneLine(input.replyId),
    },
    // nodemailer writes "X-Assistant-Reply-ID"; keep the spelling the rest of the product uses
    normalizeHeaderKey: (key) => (key.toLowerCase() === REPLY_ID_HEADER.toLowerCase() ? REPLY_ID_HEADER : key),
    newline: 'win',
  });
  return composer.compile().build();
}
