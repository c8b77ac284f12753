import { Strategy as GoogleStrategy, type GoogleCallbackParameters, type StrategyOptions, type VerifyCallback } from 'passport-google-oauth20';
import type { OAuth2Client } from 'google-auth-library';
import type { Config } from '../../config';
import type { GoogleIdentity, GoogleTokens } from '../../services/users';

/** The fewest scopes the product needs: who the user is, read the mailbox, send replies. */
export const GOOGLE_SCOPES = [
  'openid',
  'email',
  'profile',
  'https://www.googleapis.com/auth/gmail.readonly',
  'https://www.googleapis.com/auth/gmail.send',
];

export interface GoogleSignInResult {
  identity: GoogleIdentity;
  tokens: GoogleTokens;
}

export class IdTokenError extends Error {}

/**
 * passport-google-oauth20 runs the code flow (state bound to the session, PKCE). The user is then
 * identified from the ID token, checked by google-auth-library for signature, issuer, audience and
 * expiry, by Google's subject id.
 */
export function createGoogleStrategy(config: Config, oauthClient: OAuth2Client): GoogleStrategy {
  return new GoogleStrategy(
    {
      clientID: config.google.clientId,
      clientSecret: config.google.clientSecret,
      callbackURL: `${config.publicUrl}/auth/google/callback`,
      authorizationURL: config.google.authUrl,
      tokenURL: config.google.tokenUrl,
      userProfileURL: config.google.userinfoUrl,
      skipUserProfile: true,
      state: true,
      pkce: true,
      scope: GOOGLE_SCOPES,
    } as StrategyOptions,
    (accessToken: string, refreshToken: string, params: GoogleCallbackParameters, _profile: unknown, done: VerifyCallback) => {
      const idToken = params.id_token ?? '';
      oauthClient
        .verifyIdToken({ idToken, audience: config.google.clientId })
        .then((ticket) => {
          const claims = ticket.getPayload();
          if (!claims?.sub || !claims.email || claims.email_verified !== true) {
            throw new IdTokenError('ID token lacks a verified email');
          }
          const expiresIn = Number(params.expires_in);
          const result: GoogleSignInResult = {
            identity: { sub: claims.sub, email: claims.email, name: claims.name ?? claims.email.split('@')[0]! },
            tokens: {
              accessToken,
              refreshToken: refreshToken || null,
              expiresAt: Number.isFinite(expiresIn) ? new Date(Date.now() + expiresIn * 1000) : null,
              scopes: typeof params.scope === 'string' ? params.scope.split(' ').filter(Boolean) : [],
            },
          };
          done(null, result as unknown as Express.User);
        })
        .catch((err: Error) => done(err instanceof IdTokenError ? err : new IdTokenError(`ID token rejected: ${err.message}`)));
    },
  );
}
