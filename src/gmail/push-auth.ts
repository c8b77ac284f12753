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

/**
 * Checks the OIDC token Pub/Sub puts on a push: Google's signature (keys fetched and cached by
 * google-auth-library), issuer, audience, expiry, and the push service account with a verified email.
 */
export function createPushVerifier(oauthClient: OAuth2Client, settings: PushAuthSettings) {
  return async function verifyPush(authorization: string | undefined): Promise<void> {
    const match = /^Bearer ([A-Za-z0-9._-]+)$/.exec(authorization ?? '');
    if (!match) throw new PushAuthError('no bearer token');
    let claims;
    try {
      const ticket = await oauthClient.verifyIdToken({ idToken: match[1]!, audience: settings.audience });
      claims = ticket.getPayload();
    } catch (err) {
      throw new PushAuthError(`token rejected: ${rejectionReason(err)}`);
    }
    if (!claims || claims.email !== settings.serviceAccount) throw new PushAuthError('token is not from the push service account');
    if (claims.email_verified !== true) throw new PushAuthError('service account email not verified');
  };
}
