import type Koa from 'koa';
import { gmailErrors } from './google-errors';
import { bearerToken, queryString } from './http-body';
import type { AccessTokenInfo, OAuthStore } from './oauth-store';
import { SCOPE } from './oauth-scopes';

/**
 * Who may call which Gmail method: a live access token from the sandbox OAuth server (401
 * otherwise), the caller's own mailbox only ('me' or its address; 403 "Delegation denied" like
 * Gmail otherwise), and one of the scopes Google lists for the method (403 insufficient scopes).
 */

export const SCOPES = {
  read: [SCOPE.mailFull, SCOPE.gmailModify, SCOPE.gmailReadonly, SCOPE.gmailMetadata],
  profile: [SCOPE.mailFull, SCOPE.gmailModify, SCOPE.gmailReadonly, SCOPE.gmailMetadata, SCOPE.gmailCompose],
  content: [SCOPE.mailFull, SCOPE.gmailModify, SCOPE.gmailReadonly],
  send: [SCOPE.mailFull, SCOPE.gmailModify, SCOPE.gmailCompose, SCOPE.gmailSend],
  modify: [SCOPE.mailFull, SCOPE.gmailModify],
  labels: [SCOPE.mailFull, SCOPE.gmailModify, SCOPE.gmailReadonly, SCOPE.gmailMetadata, SCOPE.gmailLabels, SCOPE.gmailCompose],
} as const;

export function authenticate(ctx: Koa.Context, oauth: OAuthStore): AccessTokenInfo {
  const token = bearerToken(ctx) ?? queryString(ctx, 'access_token');
  const info = token ? oauth.resolveAccessToken(token) : undefined;
  if (!info) throw gmailErrors.unauthenticated();
  return info;
}

export function checkUserId(userId: string, info: AccessTokenInfo): void {
  if (userId === 'me' || userId.toLowerCase() === info.email) return;
  throw gmailErrors.forbidden(`Delegation denied for ${info.email}`);
}

export function requireScope(info: AccessTokenInfo, allowed: readonly string[]): void {
  if (!info.scopes.some((s) => allowed.includes(s))) throw gmailErrors.insufficientScope();
}

/** True when the token can read metadata but not message content (only gmail.metadata granted). */
export function metadataOnly(info: AccessTokenInfo): boolean {
  return !info.scopes.some((s) => (SCOPES.content as readonly string[]).includes(s));
}
