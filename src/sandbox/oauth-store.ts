import { createHash, timingSafeEqual } from 'node:crypto';
import type { Clock } from './clock';
import { normalizeEmail, randomToken } from './ids';

/**
 * In-memory state of the sandbox OAuth server: authorization codes, grants (a user's authorization
 * of a client), refresh tokens and access tokens. Follows Google's rules:
 * - codes are single use, expire after CODE_TTL_MS and are bound to client, redirect URI and PKCE;
 * - a refresh token is issued only for access_type=offline, and only when the user has no live
 *   grant for that client yet or when prompt=consent forced the consent screen;
 * - access tokens live ACCESS_TOKEN_TTL_S seconds; refreshing yields a new one;
 * - revoking any token of a grant (or the user's access) revokes the whole grant.
 */

export const ACCESS_TOKEN_TTL_S = 3599;
export const CODE_TTL_MS = 5 * 60_000;

export type PkceMethod = 'S256' | 'plain';

export interface CodeRequest {
  clientId: string;
  redirectUri: string;
  email: string;
  scopes: string[];
  offline: boolean;
  forceConsent: boolean;
  includeGrantedScopes: boolean;
  codeChallenge?: string;
  codeChallengeMethod?: PkceMethod;
  nonce?: string;
}

interface AuthorizationCode extends CodeRequest {
  expiresAt: number;
  used: boolean;
}

interface Grant {
  id: number;
  email: string;
  clientId: string;
  scopes: Set<string>;
  refreshTokens: Set<string>;
  accessTokens: Set<string>;
}

export interface AccessTokenInfo {
  grantId: number;
  email: string;
  clientId: string;
  scopes: string[];
  expiresAt: number;
}

export interface IssuedTokens {
  accessToken: string;
  expiresIn: number;
  scopes: string[];
  refreshToken?: string;
  email: string;
  clientId: string;
  nonce?: string;
}

export type TokenResult = { ok: true; tokens: IssuedTokens } | { ok: false; status: number; error: string; description: string };

const invalidGrant = (description: string): TokenResult => ({ ok: false, status: 400, error: 'invalid_grant', description });

export class OAuthStore {
  private readonly codes = new Map<string, AuthorizationCode>();
  private readonly grants = new Map<number, Grant>();
  /** Live grant per `${email} ${clientId}`. */
  private readonly liveGrant = new Map<string, number>();
  private readonly refreshTokens = new Map<string, number>();
  private readonly accessTokens = new Map<string, AccessTokenInfo>();
  private nextGrantId = 1;

  constructor(private readonly clock: Clock) {}

  issueCode(request: CodeRequest): string {
    this.sweep();
    const code = `4/0A${randomToken(54)}`;
    this.codes.set(code, { ...request, email: normalizeEmail(request.email), expiresAt: this.clock() + CODE_TTL_MS, used: false });
    return code;
  }

  hasLiveGrant(email: string, clientId: string): boolean {
    return this.liveGrant.has(grantKey(email, clientId));
  }

  grantedScopes(email: string, clientId: string): string[] {
    const id = this.liveGrant.get(grantKey(email, clientId));
    const grant = id === undefined ? undefined : this.grants.get(id);
    return grant ? [...grant.scopes] : [];
  }

  redeemCode(code: string, clientId: string, redirectUri: string | undefined, codeVerifier: string | undefined): TokenResult {
    const entry = this.codes.get(code);
    if (!entry) return invalidGrant('Malformed auth code.');
    if (entry.used || entry.expiresAt <= this.clock()) return invalidGrant('Bad Request');
    if (entry.clientId !== clientId) return { ok: false, status: 400, error: 'unauthorized_client', description: 'Unauthorized' };
    if (redirectUri === undefined || redirectUri === '') return { ok: false, status: 400, error: 'invalid_request', description: 'Missing parameter: redirect_uri' };
    if (entry.redirectUri !== redirectUri) return { ok: false, status: 400, error: 'redirect_uri_mismatch', description: 'Bad Request' };
    if (entry.codeChallenge !== undefined) {
      if (!codeVerifier) return invalidGrant('Missing code verifier.');
      if (!verifyPkce(entry.codeChallenge, entry.codeChallengeMethod ?? 'plain', codeVerifier)) return invalidGrant('Invalid code verifier.');
    }
    entry.used = true;

    const key = grantKey(entry.email, clientId);
    let grant = this.grants.get(this.liveGrant.get(key) ?? -1);
    const firstGrant = grant === undefined;
    if (!grant) {
      grant = { id: this.nextGrantId++, email: entry.email, clientId, scopes: new Set(), refreshTokens: new Set(), accessTokens: new Set() };
      this.grants.set(grant.id, grant);
      this.liveGrant.set(key, grant.id);
    }
    const scopes = entry.includeGrantedScopes ? union([...grant.scopes], entry.scopes) : [...entry.scopes];
    for (const s of entry.scopes) grant.scopes.add(s);

    let refreshToken: string | undefined;
    if (entry.offline && (firstGrant || entry.forceConsent || grant.refreshTokens.size === 0)) {
      refreshToken = `1//0${randomToken(72)}`;
      this.refreshTokens.set(refreshToken, grant.id);
      grant.refreshTokens.add(refreshToken);
    }
    const accessToken = this.newAccessToken(grant, scopes);
    return { ok: true, tokens: { accessToken, expiresIn: ACCESS_TOKEN_TTL_S, scopes, refreshToken, email: grant.email, clientId, nonce: entry.nonce } };
  }

  refresh(refreshToken: string, clientId: string): TokenResult {
    const grantId = this.refreshTokens.get(refreshToken);
    const grant = grantId === undefined ? undefined : this.grants.get(grantId);
    if (!grant) return invalidGrant('Token has been expired or revoked.');
    if (grant.clientId !== clientId) return { ok: false, status: 400, error: 'unauthorized_client', description: 'Unauthorized' };
    const scopes = [...grant.scopes];
    const accessToken = this.newAccessToken(grant, scopes);
    return { ok: true, tokens: { accessToken, expiresIn: ACCESS_TOKEN_TTL_S, scopes, email: grant.email, clientId } };
  }

  /** Revokes the grant that `token` (access or refresh) belongs to. False when the token is unknown. */
  revoke(token: string): boolean {
    const grantId = this.refreshTokens.get(token) ?? this.accessTokens.get(token)?.grantId;
    if (grantId === undefined) return false;
    this.revokeGrant(grantId);
    return true;
  }

  /** Revokes every grant of a user (what "Remove access" in the Google account does, for all apps). */
  revokeUser(email: string): number {
    const target = normalizeEmail(email);
    let count = 0;
    for (const grant of [...this.grants.values()]) {
      if (grant.email === target) {
        this.revokeGrant(grant.id);
        count += 1;
      }
    }
    return count;
  }

  /** The live, unexpired access token's info, or undefined. */
  resolveAccessToken(token: string): AccessTokenInfo | undefined {
    const info = this.accessTokens.get(token);
    if (!info) return undefined;
    if (info.expiresAt <= this.clock()) {
      this.accessTokens.delete(token);
      this.grants.get(info.grantId)?.accessTokens.delete(token);
      return undefined;
    }
    return info;
  }

  private newAccessToken(grant: Grant, scopes: string[]): string {
    this.sweep();
    const token = `ya29.a0${randomToken(96)}`;
    this.accessTokens.set(token, { grantId: grant.id, email: grant.email, clientId: grant.clientId, scopes, expiresAt: this.clock() + ACCESS_TOKEN_TTL_S * 1000 });
    grant.accessTokens.add(token);
    return token;
  }

  private revokeGrant(grantId: number): void {
    const grant = this.grants.get(grantId);
    if (!grant) return;
    for (const t of grant.refreshTokens) this.refreshTokens.delete(t);
    for (const t of grant.accessTokens) this.accessTokens.delete(t);
    this.grants.delete(grantId);
    const key = grantKey(grant.email, grant.clientId);
    if (this.liveGrant.get(key) === grantId) this.liveGrant.delete(key);
  }

  /** Drops expired codes and access tokens so that a long-running sandbox does not grow without bound. */
  private sweep(): void {
    const now = this.clock();
    for (const [code, entry] of this.codes) if (entry.expiresAt <= now) this.codes.delete(code);
    for (const [token, info] of this.accessTokens) {
      if (info.expiresAt <= now) {
        this.accessTokens.delete(token);
        this.grants.get(info.grantId)?.accessTokens.delete(token);
      }
    }
  }
}

function grantKey(email: string, clientId: string): string {
  return `${normalizeEmail(email)} ${clientId}`;
}

function union(a: string[], b: string[]): string[] {
  return [...new Set([...a, ...b])];
}

export function verifyPkce(challenge: string, method: PkceMethod, verifier: string): boolean {
  if (!/^[A-Za-z0-9\-._~]{43,128}$/.test(verifier)) return false;
  const expected = method === 'S256' ? createHash('sha256').update(verifier).digest('base64url') : verifier;
  const a = Buffer.from(expected);
  const b = Buffer.from(challenge);
  return a.length === b.length && timingSafeEqual(a, b);
}
