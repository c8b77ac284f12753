import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signs and checks cookies exactly as keygrip does (HMAC-SHA1, base64url, the first of
 * SESSION_KEYS signs, any of them verifies, so a rotated-out key keeps its sessions), given to Koa
 * as `app.keys`. keygrip compares through tsscmp, which computes two more HMACs per comparison; and
 * Koa builds a new Keygrip per request from an array of keys. Here a check costs one HMAC per key
 * tried and a constant-time comparison.
 */
export class CookieSigner {
  private readonly keys: readonly string[];

  constructor(keys: readonly string[]) {
    if (keys.length === 0) throw new Error('at least one cookie signing key is needed');
    this.keys = [...keys];
  }

  sign(data: string): string {
    return this.digest(data, this.keys[0]!);
  }

  verify(data: string, digest: string): boolean {
    return this.index(data, digest) > -1;
  }

  /** Which key made this signature, or -1. */
  index(data: string, digest: string): number {
    const given = Buffer.from(digest);
    for (let i = 0; i < this.keys.length; i++) {
      const expected = Buffer.from(this.digest(data, this.keys[i]!));
      if (expected.length === given.length && timingSafeEqual(expected, given)) return i;
    }
    return -1;
  }

  private digest(data: string, key: string): string {
    return createHmac('sha1', key).update(data).digest('base64url');
  }
}
