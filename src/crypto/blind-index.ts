import { createHmac } from 'node:crypto';

/**
 * Keyed hash of a normalised email address, so an encrypted contact can be found by the sender of an
 * incoming mail without decrypting every row. Uses its own key, never an encryption key.
 */
export class BlindIndex {
  constructor(private readonly key: Buffer) {}

  ofEmail(email: string): string {
    return createHmac('sha256', this.key).update(normalizeEmail(email), 'utf8').digest('base64url');
  }
}

/** Addresses compare case-insensitively and without surrounding blanks. */
export function normalizeEmail(email: string): string {
  return email.trim().normalize('NFC').toLowerCase();
}
