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

/**
 * Checks the OIDC token Pub/Sub puts on a push: Google's signature, issuer, audience, expiry, and
 * the push service account with a verified email, with google-auth-library. Its certificates are
 * fetched and cached by the library (for as long as Google's Cache-Control allows); each is parsed
 * into a public key once per fetched set, not on every push.
 */
export function createPushVerifier(oauthClient: OAuth2Client, settings: PushAuthSettings) {
  const parsed = new WeakMap<object, Record<string, KeyObject>>();

  async function signingKeys(): Promise<Record<string, KeyObject>> {
    const { certs } = await oauthClient.getFederatedSignonCertsAsync();
    let keys = parsed.get(certs);
    if (!keys) {
      keys = Object.fromEntries(Object.entries(certs).map(([kid, pem]) => [kid, createPublicKey(pem as string)]));
      parsed.set(certs, keys);
    }
    return keys;
  }

  return async function verifyPush(authorization: string | undefined): Promise<void> {
    const match = /^Bearer ([A-Za-z0-9._-]+)$/.exec(authorization ?? '');
    if (!match) throw new PushAuthError('no bearer token');
    let claims;
    try {
      // The library verifies with whatever key object it is given; a KeyObject spares it parsing the certificate.
      const keys = (await signingKeys()) as unknown as Record<string, string>;
      const ticket = await oauthClient.verifySignedJwtWithCertsAsync(match[1]!, keys, settings.audience, GOOGLE_ISSUERS);
      claims = ticket.getPayload();
    } catch (err) {
      throw new PushAuthError(`token rejected: ${rejectionReason(err)}`);
    }
    if (!claims || claims.email !== settings.serviceAccount) throw new PushAuthError('token is not from the push service account');
    if (claims.email_verified !== true) throw new PushAuthError('service account email not verified');
  };
}
