import type { StoredMessage } from './gmail-store';
import { stripAngles } from './mail-metadata';

/**
 * A subset of Gmail's search language (`q`), enough for sync and tests: in:, label:, is:, from:,
 * to:, cc:, subject:, after:, before:, older_than:, newer_than:, rfc822msgid:, has:attachment,
 * bare words, and `-` negation. As in Gmail, yyyy/mm/dd dates mean midnight Pacific time, and
 * numbers are epoch seconds. Anything else is reported as unsupported (and ignored).
 */

export type MessagePredicate = (m: StoredMessage) => boolean;

export interface ParsedQuery {
  matches: MessagePredicate;
  /** `in:anywhere`, `in:spam` or `in:trash` lift the default SPAM/TRASH exclusion. */
  includesSpamTrash: boolean;
  unsupported: string[];
}

const TOKEN = /(-?)([a-z_0-9]+):("[^"]*"|\S+)|(-?)"([^"]*)"|(\S+)/gi;

export function parseQuery(q: string, mailboxAddress: string, now: number): ParsedQuery {
  const predicates: MessagePredicate[] = [];
  const unsupported: string[] = [];
  let includesSpamTrash = false;
  for (const match of q.matchAll(TOKEN)) {
    const [, neg1, op, rawValue, neg2, phrase, word] = match;
    let p: MessagePredicate | undefined;
    let negate = false;
    if (op !== undefined && rawValue !== undefined) {
      negate = neg1 === '-';
      const value = rawValue.replace(/^"|"$/g, '').toLowerCase();
      const operator = op.toLowerCase();
      if (operator === 'in' && ['anywhere', 'spam', 'trash'].includes(value)) includesSpamTrash = true;
      p = operatorPredicate(operator, value, mailboxAddress, now);
      if (!p) unsupported.push(operator);
    } else if (phrase !== undefined) {
      negate = neg2 === '-';
      p = textPredicate(phrase.toLowerCase());
    } else if (word !== undefined) {
      if (['or', 'and', 'around'].includes(word.toLowerCase()) || /[(){}]/.test(word)) {
        unsupported.push(word);
        continue;
      }
      negate = word.startsWith('-') && word.length > 1;
      p = textPredicate((negate ? word.slice(1) : word).toLowerCase());
    }
    if (p) {
      const inner = p;
      predicates.push(negate ? (m) => !inner(m) : inner);
    }
  }
  return { matches: (m) => predicates.every((p) => p(m)), includesSpamTrash, unsupported };
}

function textPredicate(needle: string): MessagePredicate {
  return (m) =>
    [m.meta.subject, m.meta.text, m.meta.fromText, m.meta.toText].some((field) => field.toLowerCase().includes(needle));
}

const LABEL_ALIASES: Record<string, string> = { inbox: 'INBOX', sent: 'SENT', spam: 'SPAM', trash: 'TRASH', draft: 'DRAFT', drafts: 'DRAFT', starred: 'STARRED', important: 'IMPORTANT', unread: 'UNREAD', chats: 'CHAT' };

function operatorPredicate(op: string, value: string, mailboxAddress: string, now: number): MessagePredicate | undefined {
  switch (op) {
    case 'in':
      if (value === 'anywhere') return () => true;
      return hasLabel(LABEL_ALIASES[value] ?? value.toUpperCase());
    case 'label':
      return hasLabel(LABEL_ALIASES[value] ?? value.toUpperCase().replace(/-/g, '_'));
    case 'is':
      if (value === 'read') return (m) => !m.labelIds.includes('UNREAD');
      return LABEL_ALIASES[value] ? hasLabel(LABEL_ALIASES[value]) : undefined;
    case 'from':
      return value === 'me' ? (m) => m.meta.from.includes(mailboxAddress) : (m) => m.meta.fromText.toLowerCase().includes(value);
    case 'to':
      return value === 'me' ? (m) => m.meta.to.includes(mailboxAddress) : (m) => m.meta.to.some((a) => a.includes(value)) || m.meta.toText.toLowerCase().includes(value);
    case 'cc':
      return (m) => m.meta.cc.some((a) => a.includes(value));
    case 'subject':
      return (m) => m.meta.subject.toLowerCase().includes(value);
    case 'rfc822msgid': {
      const id = stripAngles(value);
      return (m) => (m.meta.messageId ?? '').toLowerCase() === id;
    }
    case 'has':
      return value === 'attachment' ? (m) => m.meta.hasAttachment : undefined;
    case 'after':
    case 'before': {
      const at = parseDateBound(value);
      if (at === undefined) return undefined;
      return op === 'after' ? (m) => m.internalDate >= at : (m) => m.internalDate < at;
    }
    case 'newer_than':
    case 'older_than': {
      const span = parseRelative(value);
      if (span === undefined) return undefined;
      const at = now - span;
      return op === 'newer_than' ? (m) => m.internalDate >= at : (m) => m.internalDate < at;
    }
    default:
      return undefined;
  }
}

function hasLabel(label: string): MessagePredicate {
  return (m) => m.labelIds.includes(label);
}

/** `1388552400` (epoch seconds) or `2024/01/31` / `2024-01-31` (midnight in America/Los_Angeles). */
export function parseDateBound(value: string): number | undefined {
  if (/^\d{9,11}$/.test(value)) return Number(value) * 1000;
  const m = /^(\d{4})[/-](\d{1,2})[/-](\d{1,2})$/.exec(value);
  if (!m) return undefined;
  return pacificMidnight(Number(m[1]), Number(m[2]), Number(m[3]));
}

function parseRelative(value: string): number | undefined {
  const m = /^(\d+)([dmy])$/.exec(value);
  if (!m) return undefined;
  const n = Number(m[1]);
  const day = 86_400_000;
  return m[2] === 'd' ? n * day : m[2] === 'm' ? n * 30 * day : n * 365 * day;
}

function pacificMidnight(year: number, month: number, day: number): number {
  const guess = Date.UTC(year, month - 1, day);
  const first = guess - zoneOffset(guess);
  const second = guess - zoneOffset(first);
  return second;
}

/** Local time minus UTC, in ms, of America/Los_Angeles at `at` (PST -8h if Intl lacks the zone). */
function zoneOffset(at: number): number {
  try {
    const parts = new Intl.DateTimeFormat('en-US', {
      timeZone: 'America/Los_Angeles', hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    }).formatToParts(at);
    const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
    const local = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
    return local - Math.floor(at / 1000) * 1000;
  } catch {
    return -8 * 3600_000;
  }
}
