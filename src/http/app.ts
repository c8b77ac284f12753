import Koa from 'koa';
import Router from '@koa/router';
import type { Redis } from 'ioredis';
import type { OAuth2Client } from 'google-auth-library';
import type { Config } from '../config';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { ErrorReporter } from '../observability/error-reporter';
import { AppError } from '../errors';
import { CookieSigner } from './cookie-signer';
import { requestContext } from './middleware/request-context';
import { jsonBody } from './middleware/json-body';
import { errorHandler } from './middleware/errors';
import { sessionMiddleware } from './middleware/session';
import { HTML_PAGE_CSP, securityHeaders } from './middleware/security-headers';
import { corsForFrontend } from './middleware/cors';
import { requireHostHeader } from './middleware/host-header';
import { csrfProtection } from './middleware/csrf';
import { rateLimit } from './middleware/rate-limit';
import { requireUser, SESSION_USER_KEY } from './middleware/require-user';
import { userRateLimit } from './middleware/user-rate-limit';
import { requireAdmin } from './middleware/require-admin';
import { authRoutes } from './routes/auth';
import { contactRoutes } from './routes/contacts';
import { meRoutes } from './routes/me';
import { webhookRoutes } from './routes/webhooks';
import { healthRoutes } from './routes/health';
import { rootRoutes } from './routes/root';
import { docsRoutes } from './routes/docs';
import { adminRoutes } from './routes/admin';
import { API_BODY_LIMIT } from './route-table';
import { metricsRoutes } from './routes/metrics';
import { adminAuditRoutes, auditRoutes } from './routes/audit';
import { httpMetrics } from './middleware/http-metrics';
import { reportServerErrors } from './middleware/report-server-errors';
import { BULL_BOARD_PATH } from './bull-board';
import type { UsersService } from '../services/users';
import type { ContactsService } from '../services/contacts';
import type { MessageHistoryService } from '../services/message-history';
import type { ConversationsService } from '../services/conversations';
import type { PushService } from '../services/gmail-push';
import type { AccountDeletion } from '../services/account-deletion';
import type { AuditTrail } from '../services/audit-trail';

export interface AppDeps {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  redis: Redis;
  oauthClient: OAuth2Client;
  services: {
    users: UsersService;
    contacts: ContactsService;
    history: MessageHistoryService;
    conversations: ConversationsService;
    push: PushService;
    accounts: AccountDeletion;
    audit: AuditTrail;
  };
  /** Error tracking of 5xx answers (a no-op without SENTRY_DSN). */
  errors: ErrorReporter;
  /** True once the process is shutting down (/readyz then answers 503). */
  isDraining?: () => boolean;
  verifyPush(authorization: string | undefined): Promise<void>;
  afterSignIn(userId: string, requestId: string): Promise<void>;
  healthChecks: Record<string, () => Promise<unknown>>;
  /** Mounted first, under /sandbox, only while the sandbox is on. */
  sandboxMiddleware?: Koa.Middleware;
  bullBoard?: Koa.Middleware;
}

/** Refuses a request body that is not JSON on the JSON API (415, never a silent empty body). */
const requireJsonBody: Koa.Middleware = async (ctx, next) => {
  const hasBody = ['POST', 'PUT', 'PATCH'].includes(ctx.method) && (Number(ctx.get('content-length') || 0) > 0 || ctx.get('transfer-encoding') !== '');
  if (hasBody && !ctx.is('application/json', 'application/*+json')) {
    throw new AppError(415, 'unsupported_media_type', 'send the body as application/json');
  }
  await next();
};

/** Paths whose state-changing requests are authenticated by the session cookie (CSRF-checked). */
const COOKIE_AUTHENTICATED_PATHS = /^\/(?:api(?:\/|$)|admin(?:\/|$)|auth\/logout$)/;
const API_PATHS = /^\/api(?:\/|$)/;
/** Paths not counted by the per-IP limit. */
const UNLIMITED_PATHS = /^\/(?:livez|readyz|metrics)$/;

/** Builds the Koa app (never listens): the REST API, sign-in, the push webhook, health, Bull Board. */
export function buildApp(deps: AppDeps): Koa {
  const { config } = deps;
  const app = new Koa({ proxy: config.trustProxy });
  app.keys = new CookieSigner(config.sessionKeys);
  app.silent = true;

  // Probes first: an orchestrator asks many times a minute, and a probe needs none of what follows
  // (no session, no rate limit, no log line; their answers are fixed JSON).
  const probes = healthRoutes({ checks: deps.healthChecks, isDraining: deps.isDraining });
  app.use(probes.routes());

  app.use(requestContext(deps.logger));
  app.use(httpMetrics(deps.metrics));
  app.use(errorHandler());
  app.use(reportServerErrors(deps.errors));
  app.use(securityHeaders());
  app.use(requireHostHeader());
  // Pub/Sub pushes next: the busiest route, called by Google's servers only, authenticated by its
  // bearer token, never counted per IP; it needs neither the sandbox's routes, CORS, the rate limits
  // nor the other public routes that follow.
  const pushes = webhookRoutes({ verifyPush: deps.verifyPush, push: deps.services.push, metrics: deps.metrics });
  app.use(pushes.routes());
  app.use(pushes.allowedMethods({ throw: true }));
  if (deps.sandboxMiddleware) app.use(deps.sandboxMiddleware);
  app.use(corsForFrontend(config.allowedOrigins));
  const limit = (scope: string, max: number, id: (ctx: Koa.Context) => string | false) => rateLimit({ redis: deps.redis, keyPrefix: config.redisPrefix, scope, max, id });
  // Probes and metrics scrapes are not counted per IP;
  // /api is counted below, once the session says whether a user (counted per user) is signed in.
  const perIp = (ctx: Koa.Context) => (UNLIMITED_PATHS.test(ctx.path) ? false : ctx.ip);
  app.use(limit('ip', config.rateLimits.perIpPerMinute, (ctx) => (API_PATHS.test(ctx.path) ? false : perIp(ctx))));

  const publicRouter = new Router();
  publicRouter.use(rootRoutes({ sandboxEnabled: config.sandboxEnabled }).routes());
  publicRouter.use(docsRoutes({ publicUrl: config.publicUrl }).routes());
  publicRouter.use(probes.routes());
  // On the public port: behind METRICS_TOKEN, or open outside production when none is set.
  publicRouter.use(metricsRoutes({ registry: deps.metrics.registry, token: config.operations.metricsToken, openWithoutToken: config.nodeEnv !== 'production' }).routes());
  app.use(publicRouter.routes());
  app.use(publicRouter.allowedMethods({ throw: true }));

  app.use(
    sessionMiddleware(app, {
      redis: deps.redis,
      keyPrefix: config.redisPrefix,
      idleMinutes: config.sessionIdleMinutes,
      countsUser: (ctx) => API_PATHS.test(ctx.path),
    }),
  );

  app.use(limit('ip', config.rateLimits.perIpPerMinute, (ctx) => (API_PATHS.test(ctx.path) && !ctx.session?.[SESSION_USER_KEY] ? perIp(ctx) : false)));
  app.use(limit('sign-in', config.rateLimits.signInPerMinute, (ctx) => (ctx.path.startsWith('/auth/google') ? ctx.ip : false)));
  // What is answered about a signed-in user is private: no browser or shared cache may keep it.
  app.use((ctx, next) => {
    if (COOKIE_AUTHENTICATED_PATHS.test(ctx.path)) ctx.set('Cache-Control', 'no-store');
    return next();
  });
  const csrf = csrfProtection(config.allowedOrigins);
  app.use((ctx, next) => (COOKIE_AUTHENTICATED_PATHS.test(ctx.path) ? csrf(ctx, next) : next()));

  const auth = authRoutes({ config, oauthClient: deps.oauthClient, users: deps.services.users, afterSignIn: deps.afterSignIn, logger: deps.logger });
  app.use(auth.routes());
  app.use(auth.allowedMethods({ throw: true }));

  const adminGuard = requireAdmin(config.adminEmails, async (id) => (await deps.services.users.me(id).catch(() => undefined))?.email, config.sessionAbsoluteHours);
  const adminAudit = adminAuditRoutes({ trail: deps.services.audit, requireAdmin: adminGuard });
  app.use(adminAudit.routes());
  app.use(adminAudit.allowedMethods({ throw: true }));

  if (deps.bullBoard) {
    const guard = adminGuard;
    const board = deps.bullBoard;
    app.use(async (ctx, next) => {
      if (ctx.path === BULL_BOARD_PATH || ctx.path.startsWith(`${BULL_BOARD_PATH}/`)) {
        // Bull Board's page runs its own scripts and styles, from our origin only.
        ctx.set('Content-Security-Policy', HTML_PAGE_CSP);
        await guard(ctx, () => board(ctx, next));
        return;
      }
      await next();
    });
  }

  const admin = new Router();
  admin.use('/admin/users', adminGuard, requireJsonBody, jsonBody(API_BODY_LIMIT));
  admin.use(adminRoutes({ users: deps.services.users }).routes());
  app.use(admin.routes());
  app.use(admin.allowedMethods({ throw: true }));

  const api = new Router();
  api.use(
    '/api',
    requireUser(config.sessionAbsoluteHours),
    userRateLimit(config.rateLimits.perUserPerMinute),
    requireJsonBody,
    jsonBody(API_BODY_LIMIT),
  );
  api.use(meRoutes({ users: deps.services.users, conversations: deps.services.conversations, accounts: deps.services.accounts }).routes());
  api.use(contactRoutes({ contacts: deps.services.contacts, history: deps.services.history }).routes());
  api.use(auditRoutes({ trail: deps.services.audit }).routes());
  app.use(api.routes());
  app.use(api.allowedMethods({ throw: true }));

  return app;
}
