import { simpleParser, type AddressObject } from 'mailparser';

/**
 * The facts about a message that Gmail indexes (for search, threading and the snippet), read with
 * mailparser. Only used inside the sandbox; nothing here is logged.
 */

export interface MailMetadata {
  messageId?: string;
  inReplyTo: string[];
  references: string[];
  subject: string;
  from: string[];
  /** Display name of the first From address, if any. */
  fromName?: string;
  /** "Name <addr>" text of From, for `from:` searches. */
  fromText: string;
  to: string[];
  cc: string[];
  bcc: string[];
  toText: string;
  date?: Date;
  /** Plain text (or text derived from HTML), for the snippet and free-text search. */
  text: string;
  hasAttachment: boolean;
  autoSubmitted?: string;
}

export async function readMailMetadata(raw: Buffer): Promise<MailMetadata> {
  const mail = await simpleParser(raw, { skipTextToHtml: true, skipTextLinks: true, skipImageLinks: true });
  const text = mail.text ?? (typeof mail.html === 'string' ? mail.html.replace(/<[^>]*>/g, ' ') : '');
  return {
    messageId: mail.messageId ? stripAngles(mail.messageId) : undefined,
    inReplyTo: splitIds(mail.inReplyTo),
    references: splitIds(mail.references),
    subject: mail.subject ?? '',
    from: addresses(mail.from),
    fromName: mail.from?.value[0]?.name || undefined,
    fromText: mail.from?.text ?? '',
    to: addresses(mail.to),
    cc: addresses(mail.cc),
    bcc: addresses(mail.bcc),
    toText: [mail.to, mail.cc].flatMap((a) => (a ? (Array.isArray(a) ? a : [a]) : [])).map((a) => a.text).join(', '),
    date: mail.date,
    text,
    hasAttachment: mail.attachments.length > 0,
    autoSubmitted: headerString(mail.headers.get('auto-submitted')),
  };
}

function headerString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function stripAngles(id: string): string {
  return id.trim().replace(/^<|>$/g, '');
}

/** Message-ID lists ("<a@x> <b@y>", or an array of them) → ids without angle brackets. */
export function splitIds(value: string | string[] | undefined): string[] {
  if (!value) return [];
  const list = Array.isArray(value) ? value : [value];
  return list.flatMap((v) => v.match(/<[^<>]+>/g) ?? (v.trim() ? v.trim().split(/\s+/) : [])).map(stripAngles).filter((v) => v.length > 0);
}

function addresses(value: AddressObject | AddressObject[] | undefined): string[] {
  if (!value) return [];
  const objects = Array.isArray(value) ? value : [value];
  const out: string[] = [];
  const visit = (entries: AddressObject['value']) => {
    for (const e of entries) {
      if (e.address) out.push(e.address.toLowerCase());
      if (e.group) visit(e.group);
    }
  };
  for (const o of objects) visit(o.value);
  return out;
}

/** Gmail's snippet: the start of the text, whitespace collapsed, HTML-escaped (as Gmail returns it). */
export function snippetOf(text: string): string {
  const collapsed = text.replace(/\s+/g, ' ').trim();
  const cut = collapsed.length > 200 ? collapsed.slice(0, 200).replace(/\s+\S*$/, '') : collapsed;
  return cut.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}
