import Router from '@koa/router';
import koaPassport from 'koa-passport';
import type Koa from 'koa';
import type { Config } from '../../config';
import type { OAuth2Client } from 'google-auth-library';
import { AppError } from '../../errors';
import type { UsersService } from '../../services/users';
import type { Logger } from '../../observability/logger';
import { createGoogleStrategy, GOOGLE_SCOPES, IdTokenError, type GoogleSignInResult } from '../auth/google-strategy';
import { SESSION_USER_KEY, SESSION_SIGNED_IN_AT_KEY } from '../middleware/require-user';
import { clearSessionCookie } from '../middleware/session';
import { addRoute } from '../route-spec';
import { ROUTES } from '../route-table';

export interface AuthRouteDeps {
  config: Config;
  oauthClient: OAuth2Client;
  users: UsersService;
  /** Called after a successful sign-in (starts the Gmail watch); failures are logged, not shown. */
  afterSignIn(userId: string, requestId: string): Promise<void>;
  logger: Logger;
}

const LOGIN_HINT = /^[^\s@]{1,64}@[^\s@]{1,255}$/;

/** GET /auth/google, GET /auth/google/callback, POST /auth/logout. */
export function authRoutes(deps: AuthRouteDeps): Router {
  const passport = new koaPassport.KoaPassport();
  passport.use('google', createGoogleStrategy(deps.config, deps.oauthClient));
  const router = new Router();

  addRoute(router, ROUTES.signIn, passport.initialize(), async (ctx, next) => {
    const loginHint = typeof ctx.query.login_hint === 'string' && LOGIN_HINT.test(ctx.query.login_hint) ? ctx.query.login_hint : undefined;
    // Google sends a refresh token only on first consent; ask again when we hold none for this user.
    let prompt: string | undefined = ctx.query.prompt === 'consent' ? 'consent' : undefined;
    if (!prompt && loginHint) {
      const known = await deps.users.findByEmail(loginHint);
      if (known && !(await deps.users.hasRefreshToken(known.id))) prompt = 'consent';
    }
    return passport.authenticate('google', { scope: GOOGLE_SCOPES, accessType: 'offline', prompt, loginHint, session: false })(ctx, next);
  });

  addRoute(router, ROUTES.signInCallback, passport.initialize(), async (ctx, next) => {
    if (typeof ctx.query.error === 'string') {
      // A refused sign-in ends that attempt: its state (and PKCE verifier), kept in the session by
      // passport-oauth2 under `oauth2:<host>`, cannot complete a sign-in afterwards.
      const session = ctx.session as unknown as Record<string, unknown> | null;
      if (session) for (const key of Object.keys(session)) if (key.startsWith('oauth2:')) delete session[key];
      throw new AppError(403, 'oauth_denied', 'Google sign-in was cancelled or refused');
    }
    if (typeof ctx.query.code !== 'string' || typeof ctx.query.state !== 'string') {
      throw new AppError(400, 'oauth_callback_invalid', 'the callback needs both code and state');
    }
    let result: GoogleSignInResult | undefined;
    await passport.authenticate('google', { session: false }, (err: Error | null, user: GoogleSignInResult | false, info: { message?: string } | undefined) => {
      if (err instanceof IdTokenError) throw new AppError(401, 'oauth_id_token_invalid', 'Google ID token was not accepted');
      if (err) {
        // invalid_grant: the code was spent already (the same callback hit twice, a double click) or expired.
        // passport-oauth2 turns the token endpoint's error into a TokenError carrying its code.
        const refused = (err as { code?: unknown }).code === 'invalid_grant';
        deps.logger.warn({ err: { name: err.name, message: err.message }, codeRefused: refused }, 'google token exchange failed');
        if (refused) throw new AppError(400, 'oauth_code_invalid', 'Google refused the sign-in code (already used, expired or not valid); sign in again');
        throw new AppError(502, 'oauth_exchange_failed', 'could not complete sign-in with Google');
      }
      if (!user) {
        const message = info?.message ?? '';
        if (/state/i.test(message)) throw new AppError(403, 'oauth_state_invalid', 'sign-in state is missing or does not match; start again');
        throw new AppError(401, 'oauth_failed', 'Google sign-in failed');
      }
      result = user;
    })(ctx, next);
    if (!result) return;

    const at = { requestId: ctx.state.requestId };
    const { user, hasRefreshToken } = await deps.users.signIn(result.identity, result.tokens, at);
    if (!hasRefreshToken) {
      if (ctx.session?.consentRequested) {
        throw new AppError(502, 'oauth_no_refresh_token', 'Google gave no offline access; remove the app in your Google account and sign in again');
      }
      ctx.session!.consentRequested = true;
      ctx.redirect(`/auth/google?prompt=consent&login_hint=${encodeURIComponent(user.email)}`);
      return;
    }
    // A fresh session id at sign-in (no fixation), holding the user id only.
    await ctx.session!.regenerate();
    ctx.session![SESSION_USER_KEY] = user.id;
    ctx.session![SESSION_SIGNED_IN_AT_KEY] = Date.now();
    await deps.afterSignIn(user.id, ctx.state.requestId).catch((err: unknown) => deps.logger.warn({ err, userId: user.id }, 'post sign-in step failed'));
    ctx.redirect(deps.config.frontendUrl);
  });

  addRoute(router, ROUTES.signOut, async (ctx) => {
    const userId: unknown = ctx.session?.[SESSION_USER_KEY];
    if (typeof userId === 'string') await deps.users.signOut(userId, { requestId: ctx.state.requestId });
    ctx.session = null;
    clearSessionCookie(ctx);
    ctx.status = 204;
  });

  return router;
}

export type KoaMiddleware = Koa.Middleware;
