import { OAuth2Client } from 'google-auth-library';
import type { Config } from '../config';

/**
 * A google-auth-library client pointed at the configured Google endpoints (Google's or the sandbox's),
 * so every Google call of the product goes through the official library with explicit credentials.
 */
export function createOAuthClient(config: Config, opts: { forceRefreshOnFailure?: boolean; eagerRefreshThresholdMillis?: number } = {}): OAuth2Client {
  return new OAuth2Client({
    clientId: config.google.clientId,
    clientSecret: config.google.clientSecret,
    redirectUri: `${config.publicUrl}/auth/google/callback`,
    // A stored access token can be revoked before it expires: refresh once on a 401 instead of
    // trusting the stored expiry.
    forceRefreshOnFailure: opts.forceRefreshOnFailure ?? true,
    ...(opts.eagerRefreshThresholdMillis !== undefined ? { eagerRefreshThresholdMillis: opts.eagerRefreshThresholdMillis } : {}),
    endpoints: {
      oauth2AuthBaseUrl: config.google.authUrl,
      oauth2TokenUrl: config.google.tokenUrl,
      oauth2RevokeUrl: config.google.revokeUrl,
      oauth2FederatedSignonPemCertsUrl: config.google.certsPemUrl,
      oauth2FederatedSignonJwkCertsUrl: config.google.certsJwkUrl,
    },
  });
}
