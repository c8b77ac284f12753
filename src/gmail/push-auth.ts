import { createPublicKey, type KeyObject } from 'node:crypto';
import type { OAuth2Client } from 'google-auth-library';

export interface PushAuthSettings {
  audience: string;
  serviceAccount: string;
}

export class PushAuthError extends Error {}

/**
 * google-auth-library's messages quote the token or its payload; only a fixed reason may reach
 * the log.
 */
const REJECTION_REASONS: Array<[RegExp, string]> = [
  [/segments|parse token|envelope/i, 'malformed token'],
  [/too late|expired/i, 'expired token'],
  [/too early/i, 'token not yet valid'],
  [/recipient|audience/i, 'wrong audience'],
  [/issuer/i, 'wrong issuer'],
  [/no pem found|kid/i, 'unknown signing key'],
  [/signature/i, 'bad signature'],
];

function rejectionReason(err: unknown): string {
  const message = err instanceof Error ? err.message : '';
  return REJECTION_REASONS.find(([pattern]) => pattern.test(message))?.[1] ?? 'invalid token';
}

/** Google's issuers of ID tokens (as google-auth-library's verifyIdToken accepts them). */
const GOOGLE_ISSUERS = ['accounts.google.com', 'https://accounts.google.com'];

/** How many verified push tokens are remembered (a push token is about 1 kB). */
const VERIFIED_TOKENS_MAX = 1_000;

/** The signing keys of one certificate set that the library fetched, and the tokens they verified. */
interface KeySet {
  keys: Record<string, KeyObject>;
  /** Token → its expiry (ms). */
  verified: Map<string, number>;
}

/**
 * Checks the OIDC token Pub/Sub puts on a push: Google's signature, issuer, audience, expiry, and
 * the push service account with a verified email, with google-auth-library. Its certificates are
 * fetched and cached by the library (for as long as Google's Cache-Control allows); each is parsed
 * into a public key once per fetched set, not on every push.
 *
 * Pub/Sub puts the same token on the pushes of a while (Google's push samples advise caching the
 * tokens already seen), so a token that passed every check is remembered until it expires, with
 * the certificate set that verified it: the same token against the same keys would pass again, and
 * a new certificate set starts with none remembered.
 */
export function createPushVerifier(oauthClient: OAuth2Client, settings: PushAuthSettings, now: () => number = Date.now) {
  const parsed = new WeakMap<object, KeySet>();

  async function currentKeySet(): Promise<KeySet> {
    const { certs } = await oauthClient.getFederatedSignonCertsAsync();
    let set = parsed.get(certs);
    if (!set) {
      set = { keys: Object.fromEntries(Object.entries(certs).map(([kid, pem]) => [kid, createPublicKey(pem as string)])), verified: new Map() };
      parsed.set(certs, set);
    }
    return set;
  }

  function remember(set: KeySet, token: string, expiresAtSeconds: number | undefined): void {
    if (typeof expiresAtSeconds !== 'number') return;
    if (set.verified.size >= VERIFIED_TOKENS_MAX) set.verified.delete(set.verified.keys().next().value!);
    set.verified.set(token, expiresAtSeconds * 1000);
  }

  return async function verifyPush(authorization: string | undefined): Promise<void> {
    // The scheme is case-insensitive (RFC 9110, 11.1).
    const match = /^bearer ([A-Za-z0-9._-]+)$/i.exec(authorization ?? '');
    if (!match) throw new PushAuthError('no bearer token');
    const token = match[1]!;
    let set: KeySet;
    let claims;
    try {
      set = await currentKeySet();
      const expiresAt = set.verified.get(token);
      if (expiresAt !== undefined) {
        if (now() < expiresAt) return;
        set.verified.delete(token);
      }
      // The library verifies with whatever key object it is given; a KeyObject spares it parsing the certificate.
      const ticket = await oauthClient.verifySignedJwtWithCertsAsync(token, set.keys as unknown as Record<string, string>, settings.audience, GOOGLE_ISSUERS);
      claims = ticket.getPayload();
    } catch (err) {
      throw new PushAuthError(`token rejected: ${rejectionReason(err)}`);
    }
    if (!claims || claims.email !== settings.serviceAccount) throw new PushAuthError('token is not from the push service account');
    if (claims.email_verified !== true) throw new PushAuthError('service account email not verified');
    remember(set, token, claims.exp);
  };
}
