import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { EncryptionKey } from '../config';

/**
 * AES-256-GCM for single column values. A stored value is `<keyVersion>.<base64url(nonce|ciphertext|tag)>`.
 * The key version, table, column and row id are bound as associated data, so a ciphertext copied into
 * another row or column (or relabelled with another key version) fails to decrypt.
 */
export interface FieldLocation {
  table: string;
  column: string;
  rowId: string;
}

export class DecryptionError extends Error {
  constructor(readonly location: FieldLocation, reason: string) {
    super(`cannot decrypt ${location.table}.${location.column} of row ${location.rowId}: ${reason}`);
  }
}

const NONCE_BYTES = 12;
const TAG_BYTES = 16;

export class FieldCipher {
  private readonly keys: Map<string, Buffer>;

  constructor(keys: EncryptionKey[], private readonly current: EncryptionKey) {
    this.keys = new Map(keys.map((k) => [k.version, k.key]));
  }

  get currentVersion(): string {
    return this.current.version;
  }

  encrypt(plaintext: string, at: FieldLocation): string {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, nonce);
    cipher.setAAD(associatedData(this.current.version, at));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const sealed = Buffer.concat([nonce, body, cipher.getAuthTag()]);
    return `${this.current.version}.${sealed.toString('base64url')}`;
  }

  decrypt(stored: string, at: FieldLocation): string {
    const dot = stored.indexOf('.');
    if (dot <= 0) throw new DecryptionError(at, 'not an encrypted value');
    const version = stored.slice(0, dot);
    const key = this.keys.get(version);
    if (!key) throw new DecryptionError(at, `key version ${version} is not configured`);
    const sealed = Buffer.from(stored.slice(dot + 1), 'base64url');
    if (sealed.length < NONCE_BYTES + TAG_BYTES) throw new DecryptionError(at, 'value too short');
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, NONCE_BYTES));
    decipher.setAAD(associatedData(version, at));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    try {
      const body = sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES);
      // final() authenticates: nothing is returned unless the tag matches.
      const text = decipher.update(body, undefined, 'utf8');
      return text + decipher.final('utf8');
    } catch {
      throw new DecryptionError(at, 'authentication failed');
    }
  }

  encryptNullable(plaintext: string | null, at: FieldLocation): string | null {
    return plaintext === null ? null : this.encrypt(plaintext, at);
  }

  decryptNullable(stored: string | null, at: FieldLocation): string | null {
    return stored === null ? null : this.decrypt(stored, at);
  }

  /** Version of the key a stored value was written with (for re-encryption). */
  static keyVersionOf(stored: string): string {
    return stored.slice(0, Math.max(0, stored.indexOf('.')));
  }
}

/** `["version","table","column",` per column: a page of 50 contacts decrypts 150 values. */
const aadPrefixes = new Map<string, string>();

/** The JSON text of [version, table, column, rowId]: the bytes every stored value was sealed with. */
function associatedData(version: string, at: FieldLocation): Buffer {
  const column = `${version}\u0000${at.table}\u0000${at.column}`;
  let prefix = aadPrefixes.get(column);
  if (prefix === undefined) {
    prefix = `${JSON.stringify([version, at.table, at.column]).slice(0, -1)},`;
    if (aadPrefixes.size < 1000) aadPrefixes.set(column, prefix);
  }
  return Buffer.from(`${prefix}${JSON.stringify(at.rowId)}]`, 'utf8');
}
