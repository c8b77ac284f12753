import type { OAuth2Client } from 'google-auth-library';

export interface PushAuthSettings {
  audience: string;
  serviceAccount: string;
}

export class PushAuthError extends Error {}

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
      throw new PushAuthError(`token rejected: ${(err as Error).message.slice(0, 120)}`);
    }
    if (!claims || claims.email !== settings.serviceAccount) throw new PushAuthError('token is not from the push service account');
    if (claims.email_verified !== true) throw new PushAuthError('service account email not verified');
  };
}
