import { createHash } from 'node:crypto';
import type Koa from 'koa';
import Router from '@koa/router';
import type { Logger } from '../observability/logger';
import type { Clock } from './clock';
import { sendOAuthError } from './google-errors';
import { bearerToken, bodyObject, queryString, sandboxBodyParser } from './http-body';
import { displayNameFromEmail, looksLikeEmail, normalizeEmail, numericSubjectId } from './ids';
import { accountChooserPage, avatarSvg, oauthErrorPage, PAGE_CSP } from './oauth-pages';
import { grantsIdToken, parseScopeParam, SCOPE } from './oauth-scopes';
import type { IssuedTokens, OAuthStore, PkceMethod } from './oauth-store';
import type { SigningKeys } from './signing-keys';

/**
 * Google's OAuth 2.0 / OpenID Connect endpoints, under /sandbox/oauth2/...: authorization (with
 * login_hint auto-approval, or a one-field account chooser), token (authorization_code with PKCE,
 * refresh_token), userinfo, revoke, tokeninfo, certificates (PEM and JWK) and the discovery document.
 */

export const GOOGLE_ISSUER = 'https://accounts.google.com';
const CERTS_MAX_AGE_S = 300;

export interface OAuthClientConfig {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
}

export interface OAuthRouterDeps {
  client: OAuthClientConfig;
  publicUrl: string;
  store: OAuthStore;
  keys: SigningKeys;
  clock: Clock;
  logger: Logger;
  /** Called when a user approves a client (their mailbox must exist from then on). */
  onSignIn(email: string): void;
}

export function oauthRouter(deps: OAuthRouterDeps): Router {
  const { client, store, keys, clock, logger } = deps;
  const base = `${deps.publicUrl}/sandbox`;
  const router = new Router({ prefix: '/sandbox' });
  router.use(async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      const status = (err as { status?: unknown }).status;
      if (typeof status === 'number' && status >= 400 && status < 500) return sendOAuthError(ctx, 400, 'invalid_request', 'Bad Request');
      throw err;
    }
  });
  router.use(sandboxBodyParser);

  const authorize = (ctx: Koa.Context) => {
    const params = stringParams(ctx.query);
    const page = (status: number, error: string, description: string) => {
      ctx.status = status;
      ctx.type = 'html';
      ctx.set('Content-Security-Policy', PAGE_CSP);
      ctx.body = oauthErrorPage(status, error, description);
      logger.info({ error }, 'sandbox oauth authorization refused');
    };
    if (!params.client_id) return page(400, 'invalid_request', 'Missing required parameter: client_id');
    if (params.client_id !== client.clientId) return page(401, 'invalid_client', 'The OAuth client was not found.');
    if (!params.redirect_uri) return page(400, 'invalid_request', 'Missing required parameter: redirect_uri');
    if (!client.redirectUris.includes(params.redirect_uri)) {
      return page(400, 'redirect_uri_mismatch', "You can't sign in to this app because it doesn't comply with Google's OAuth 2.0 policy.");
    }
    if (params.response_type !== 'code') return page(400, 'unsupported_response_type', `Invalid response_type: ${params.response_type ?? ''}`);
    if (!params.scope) return page(400, 'invalid_request', 'Missing required parameter: scope');
    const { scopes, unknown } = parseScopeParam(params.scope);
    if (unknown.length > 0 || scopes.length === 0) return page(400, 'invalid_scope', 'Some requested scopes were invalid.');
    const accessType = params.access_type ?? 'online';
    if (accessType !== 'online' && accessType !== 'offline') return page(400, 'invalid_request', `Invalid access_type: ${accessType}`);
    const prompts = (params.prompt ?? '').split(/\s+/).filter((p) => p.length > 0);
    if (prompts.some((p) => !['none', 'consent', 'select_account'].includes(p)) || (prompts.includes('none') && prompts.length > 1)) {
      return page(400, 'invalid_request', 'Invalid parameter value for prompt.');
    }
    let codeChallengeMethod: PkceMethod | undefined;
    if (params.code_challenge_method !== undefined || params.code_challenge !== undefined) {
      if (!params.code_challenge) return page(400, 'invalid_request', 'Missing parameter: code_challenge');
      const method = params.code_challenge_method ?? 'plain';
      if (method !== 'S256' && method !== 'plain') return page(400, 'invalid_request', 'Invalid code_challenge_method value.');
      if (!/^[A-Za-z0-9\-._~]{43,128}$/.test(params.code_challenge)) return page(400, 'invalid_request', 'Invalid code_challenge value.');
      codeChallengeMethod = method;
    }

    const redirect = (query: Record<string, string | undefined>) => {
      const url = new URL(params.redirect_uri!);
      for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, v);
      ctx.status = 302;
      ctx.redirect(url.toString());
    };
    if (params.deny) return redirect({ error: 'access_denied', state: params.state });

    const hint = params.login_hint?.trim();
    if (!hint || !looksLikeEmail(hint)) {
      ctx.status = 200;
      ctx.type = 'html';
      ctx.set('Cache-Control', 'no-store');
      ctx.set('Content-Security-Policy', PAGE_CSP);
      ctx.body = accountChooserPage(`${base}/oauth2/auth`, params, hint ? 'Enter a valid email address.' : undefined);
      return;
    }
    const email = normalizeEmail(hint);
    const granted = store.grantedScopes(email, client.clientId);
    const alreadyGranted = scopes.every((s) => granted.includes(s));
    if (prompts.includes('none') && !alreadyGranted) return redirect({ error: 'consent_required', state: params.state });

    deps.onSignIn(email);
    const code = store.issueCode({
      clientId: client.clientId,
      redirectUri: params.redirect_uri,
      email,
      scopes,
      offline: accessType === 'offline',
      forceConsent: prompts.includes('consent'),
      includeGrantedScopes: params.include_granted_scopes === 'true',
      codeChallenge: params.code_challenge,
      codeChallengeMethod,
      nonce: params.nonce,
    });
    logger.info({ user: numericSubjectId(email), scopes: scopes.length, offline: accessType === 'offline', pkce: codeChallengeMethod ?? 'none' }, 'sandbox oauth code issued');
    redirect({
      state: params.state,
      code,
      scope: scopes.join(' '),
      authuser: '0',
      prompt: alreadyGranted && !prompts.includes('consent') ? 'none' : 'consent',
    });
  };
  router.get('/oauth2/auth', authorize);
  router.get('/o/oauth2/v2/auth', authorize);

  router.post('/oauth2/token', (ctx) => {
    ctx.set('Cache-Control', 'no-cache, no-store, max-age=0, must-revalidate');
    ctx.set('Pragma', 'no-cache');
    const body = stringParams(bodyObject(ctx));
    const basic = parseBasicAuth(ctx.get('authorization'));
    const clientId = basic?.id ?? body.client_id;
    const clientSecret = basic?.secret ?? body.client_secret;
    if (!clientId) return sendOAuthError(ctx, 400, 'invalid_request', 'Could not determine client ID from request.');
    if (clientId !== client.clientId) return sendOAuthError(ctx, 401, 'invalid_client', 'The OAuth client was not found.');
    if (clientSecret !== client.clientSecret || (body.client_id !== undefined && body.client_id !== clientId)) {
      return sendOAuthError(ctx, 401, 'invalid_client', 'Unauthorized');
    }
    const grantType = body.grant_type ?? '';
    let result;
    if (grantType === 'authorization_code') {
      if (!body.code) return sendOAuthError(ctx, 400, 'invalid_request', 'Missing required parameter: code');
      result = store.redeemCode(body.code, clientId, body.redirect_uri, body.code_verifier);
    } else if (grantType === 'refresh_token') {
      if (!body.refresh_token) return sendOAuthError(ctx, 400, 'invalid_request', 'Missing required parameter: refresh_token');
      result = store.refresh(body.refresh_token, clientId);
    } else {
      return sendOAuthError(ctx, 400, 'unsupported_grant_type', `Invalid grant_type: ${grantType.slice(0, 40)}`);
    }
    if (!result.ok) {
      logger.info({ grantType, error: result.error }, 'sandbox oauth token refused');
      return sendOAuthError(ctx, result.status, result.error, result.description);
    }
    const t = result.tokens;
    logger.info({ grantType, user: numericSubjectId(t.email), refreshTokenIssued: t.refreshToken !== undefined }, 'sandbox oauth token issued');
    ctx.body = {
      access_token: t.accessToken,
      expires_in: t.expiresIn,
      ...(t.refreshToken ? { refresh_token: t.refreshToken } : {}),
      scope: t.scopes.join(' '),
      token_type: 'Bearer',
      ...(grantsIdToken(t.scopes) ? { id_token: idToken(t) } : {}),
    };
  });

  const idToken = (t: IssuedTokens): string => {
    const iat = Math.floor(clock() / 1000);
    const claims: Record<string, unknown> = {
      iss: GOOGLE_ISSUER,
      azp: t.clientId,
      aud: t.clientId,
      sub: numericSubjectId(t.email),
    };
    if (t.scopes.includes(SCOPE.email)) Object.assign(claims, { email: t.email, email_verified: true });
    claims.at_hash = createHash('sha256').update(t.accessToken).digest().subarray(0, 16).toString('base64url');
    if (t.nonce) claims.nonce = t.nonce;
    if (t.scopes.includes(SCOPE.profile)) Object.assign(claims, profileClaims(t.email));
    Object.assign(claims, { iat, exp: iat + 3600 });
    return keys.sign(claims);
  };

  const profileClaims = (email: string): Record<string, string> => {
    const n = displayNameFromEmail(email);
    return {
      name: n.name,
      picture: `${base}/oauth2/avatar/${numericSubjectId(email)}.svg`,
      given_name: n.given,
      ...(n.family ? { family_name: n.family } : {}),
    };
  };

  const userinfo = (ctx: Koa.Context) => {
    const token = bearerToken(ctx) ?? queryString(ctx, 'access_token');
    const info = token ? store.resolveAccessToken(token) : undefined;
    if (!info) {
      ctx.set('WWW-Authenticate', 'Bearer realm="https://accounts.google.com/", error="invalid_token"');
      return sendOAuthError(ctx, 401, 'invalid_request', 'Invalid Credentials');
    }
    ctx.body = {
      sub: numericSubjectId(info.email),
      ...(info.scopes.includes(SCOPE.profile) ? profileClaims(info.email) : {}),
      ...(info.scopes.includes(SCOPE.email) ? { email: info.email, email_verified: true } : {}),
    };
  };
  router.get('/oauth2/v3/userinfo', userinfo);
  router.post('/oauth2/v3/userinfo', userinfo);

  router.get('/oauth2/v3/tokeninfo', (ctx) => {
    const token = queryString(ctx, 'access_token') ?? '';
    const info = store.resolveAccessToken(token);
    if (!info) return sendOAuthError(ctx, 400, 'invalid_token', 'Invalid Value');
    const expiresIn = Math.max(0, Math.floor((info.expiresAt - clock()) / 1000));
    ctx.body = {
      azp: info.clientId,
      aud: info.clientId,
      sub: numericSubjectId(info.email),
      scope: info.scopes.join(' '),
      exp: String(Math.floor(info.expiresAt / 1000)),
      expires_in: String(expiresIn),
      ...(info.scopes.includes(SCOPE.email) ? { email: info.email, email_verified: 'true' } : {}),
    };
  });

  const revoke = (ctx: Koa.Context) => {
    const token = queryString(ctx, 'token') ?? stringParams(bodyObject(ctx)).token;
    if (!token) return sendOAuthError(ctx, 400, 'invalid_request', 'Bad Request');
    if (!store.revoke(token)) return sendOAuthError(ctx, 400, 'invalid_token', 'Token expired or revoked');
    logger.info({}, 'sandbox oauth grant revoked');
    ctx.body = {};
  };
  router.post('/oauth2/revoke', revoke);
  router.get('/oauth2/revoke', revoke);

  const cacheCerts = (ctx: Koa.Context) => {
    ctx.set('Cache-Control', `public, max-age=${CERTS_MAX_AGE_S}, must-revalidate, no-transform`);
    ctx.set('Expires', new Date(clock() + CERTS_MAX_AGE_S * 1000).toUTCString());
  };
  router.get('/oauth2/v1/certs', (ctx) => {
    cacheCerts(ctx);
    ctx.body = keys.pemCertificates();
  });
  router.get('/oauth2/v3/certs', (ctx) => {
    cacheCerts(ctx);
    ctx.body = keys.jwks();
  });

  router.get('/oauth2/avatar/:file', (ctx) => {
    const sub = /^(\d{21})\.svg$/.exec(ctx.params.file ?? '')?.[1];
    if (!sub) return;
    ctx.type = 'image/svg+xml';
    ctx.set('Cache-Control', 'public, max-age=86400');
    ctx.body = avatarSvg('•', Number(sub.slice(-3)) % 360);
  });

  router.get('/.well-known/openid-configuration', (ctx) => {
    ctx.body = {
      issuer: GOOGLE_ISSUER,
      authorization_endpoint: `${base}/oauth2/auth`,
      token_endpoint: `${base}/oauth2/token`,
      userinfo_endpoint: `${base}/oauth2/v3/userinfo`,
      revocation_endpoint: `${base}/oauth2/revoke`,
      jwks_uri: `${base}/oauth2/v3/certs`,
      response_types_supported: ['code'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
      scopes_supported: ['openid', 'email', 'profile'],
      token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
      claims_supported: ['aud', 'email', 'email_verified', 'exp', 'family_name', 'given_name', 'iat', 'iss', 'name', 'picture', 'sub'],
      code_challenge_methods_supported: ['plain', 'S256'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
    };
  });

  return router;
}

/** Only the single-valued string entries of a query or form body. */
function stringParams(source: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(source)) {
    if (typeof v === 'string') out[k] = v;
    else if (Array.isArray(v) && typeof v[0] === 'string') out[k] = v[0];
  }
  return out;
}

function parseBasicAuth(header: string): { id: string; secret: string } | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!m?.[1]) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  const dec = (s: string) => {
    try {
      return decodeURIComponent(s.replace(/\+/g, ' '));
    } catch {
      return s;
    }
  };
  return { id: dec(decoded.slice(0, colon)), secret: dec(decoded.slice(colon + 1)) };
}
