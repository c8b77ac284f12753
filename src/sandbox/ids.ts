import { createHash, randomBytes, randomInt } from 'node:crypto';

/**
 * Identifier formats, shaped like Google's so that client code meets realistic values:
 * Gmail message ids are 16 lower-case hex digits (a millisecond timestamp shifted left by 20 bits
 * plus random low bits, as Gmail's are), history ids are large decimals that grow by irregular
 * steps, Google subject ids are 21-digit numeric strings.
 */

export function newGmailId(nowMs: number): string {
  const value = (BigInt(Math.floor(nowMs)) << 20n) | BigInt(randomInt(0, 1 << 20));
  return value.toString(16).padStart(16, '0').slice(-16);
}

/** A realistic starting history id for a new mailbox (Gmail's are 6 to 8 digits for real accounts). */
/**
 * Where a new mailbox's history starts. Gmail's history ids only grow; the sandbox keeps its
 * mailboxes in memory, so ids are taken from the clock: a mailbox made again after a restart starts
 * above the ids the product stored before it.
 */
export function initialHistoryId(now = Date.now()): number {
  return Math.floor(now / 1000) * 10_000 + randomInt(0, 10_000);
}

/** Gmail history ids are not contiguous: several internal changes happen between visible records. */
export function historyStep(): number {
  return randomInt(1, 180);
}

/** A stable 21-digit numeric subject id derived from an identifier (Google's `sub` looks like this). */
export function numericSubjectId(seed: string): string {
  const digest = createHash('sha256').update(seed.toLowerCase()).digest();
  const n = BigInt(`0x${digest.subarray(0, 16).toString('hex')}`) % 10n ** 20n;
  return `1${n.toString().padStart(20, '0')}`;
}

export function randomToken(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}

/** A Message-ID in the form Gmail assigns to mail sent through it. */
export function gmailStyleMessageId(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-';
  let local = 'CA+';
  for (let i = 0; i < 42; i += 1) local += alphabet[randomInt(0, alphabet.length)];
  return `<${local}@mail.gmail.com>`;
}

/** `alice.smith@example.com` → { name: 'Alice Smith', given: 'Alice', family: 'Smith' }. */
export function displayNameFromEmail(email: string): { name: string; given: string; family?: string } {
  const local = (email.split('@')[0] ?? email).split('+')[0] ?? '';
  const words = local
    .split(/[._\-]+/)
    .filter((w) => w.length > 0)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1).toLowerCase());
  if (words.length === 0) return { name: email, given: email };
  const given = words[0]!;
  const family = words.length > 1 ? words.slice(1).join(' ') : undefined;
  return family ? { name: `${given} ${family}`, given, family } : { name: given, given };
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

const EMAIL_RE = /^[^\s@<>()",;:]+@[^\s@<>()",;:]+\.[^\s@<>()",;:]+$/;

export function looksLikeEmail(value: string): boolean {
  return EMAIL_RE.test(value.trim());
}
