import type Koa from 'koa';
import type { Logger } from '../observability/logger';
import { systemClock, type Clock } from './clock';
import { controlRouter } from './control';
import { gmailApiRouter } from './gmail-api';
import { GmailStore } from './gmail-store';
import { SandboxHooks } from './hooks';
import { llmRouter } from './llm';
import { LlmFaults, llmFaultsRouter } from './llm-faults';
import { MailDelivery } from './mail-delivery';
import { oauthRouter } from './oauth';
import { OAuthStore } from './oauth-store';
import { PushDelivery } from './pubsub-push';
import { createSandboxPubsub, type SandboxPubsub } from './pubsub-grpc';
import { createSigningKeys } from './signing-keys';

/**
 * The local stand-ins for Google and the LLM vendor, mounted in the product's Koa app under
 * /sandbox (same origin as the API). They speak the real protocols so that the official client
 * libraries drive them exactly as they drive Google in production:
 *
 *   /sandbox/oauth2/...                 OAuth 2.0 / OpenID Connect (oauth.ts)
 *   /gmail/v1/..., /upload/gmail/v1/... Gmail REST API subset (gmail-api.ts; Google's own paths,
 *                                       as googleapis keeps only the origin of its rootUrl)
 *   /sandbox/openai/v1/chat/completions OpenAI-compatible chat completions (llm.ts)
 *   /sandbox/gmail/mailboxes/:email/... control endpoints for tests and demos (control.ts)
 *   Pub/Sub push deliveries to opts.pushEndpoint (pubsub-push.ts), or, with a pull subscription,
 *   a gRPC Pub/Sub on 127.0.0.1 that the worker pulls from instead (pubsub-grpc/)
 *
 * State lives in memory, for one process. Never runs with NODE_ENV=production.
 */

export interface SandboxOptions {
  publicUrl: string;          // origin of the app, e.g. http://127.0.0.1:41234 ; sandbox lives under `${publicUrl}/sandbox`
  clientId: string;           // the only OAuth client accepted
  clientSecret: string;
  redirectUris: string[];     // redirect URIs allowed for that client
  pushEndpoint: string;       // where Pub/Sub push deliveries are POSTed (the app's /webhooks/gmail)
  pushAudience: string;       // `aud` of the push OIDC token
  pushServiceAccount: string; // `email` claim of the push OIDC token
  topicName: string;          // the only topic users.watch accepts, e.g. projects/sandbox-project/topics/gmail-push
  llmApiKey: string;          // bearer key the fake chat-completions endpoint accepts
  /** Pub/Sub pull subscription (projects/p/subscriptions/s): Gmail notifications go to the sandbox's gRPC Pub/Sub instead of push. */
  pullSubscription?: string;
  logger: Logger;
}

export interface Sandbox {
  middleware: Koa.Middleware; // serves every path under /sandbox, calls next() for anything else; parses its own bodies
  close(): Promise<void>;     // stops timers / pending push deliveries so tests can exit
  /** Signs a JWT with the sandbox's Google key (what Google signs ID and push tokens with), for tests. */
  signToken(claims: Record<string, unknown>): string;
  /** Observation points for fault tests (hooks.ts); inert while no hook is registered. */
  hooks: SandboxHooks;
  /** The gRPC Pub/Sub when a pull subscription is configured (start it with `pubsub.listen(port)`), else null. */
  pubsub: SandboxPubsub | null;
}

/** The paths the sandbox answers; everything else goes on to the product. */
const SANDBOX_PATHS = /^\/(?:sandbox(?:\/|$)|gmail\/v1\/|upload\/gmail\/v1\/)/;

export class SandboxRefusedError extends Error {}

export function assertSandboxAllowed(nodeEnv: string): void {
  if (nodeEnv === 'production') {
    throw new SandboxRefusedError('The Google/LLM sandbox never runs with NODE_ENV=production: configure real Google credentials.');
  }
}

export function createSandbox(opts: SandboxOptions): Sandbox {
  return createSandboxWithClock(opts, systemClock);
}

/** createSandbox with an injected clock, so that tests can move time (token and watch expiry). */
export function createSandboxWithClock(opts: SandboxOptions, clock: Clock): Sandbox {
  assertSandboxAllowed(process.env.NODE_ENV ?? 'development');
  const logger = opts.logger;
  const publicUrl = opts.publicUrl.replace(/\/+$/, '');

  const keys = createSigningKeys(clock());
  const hooks = new SandboxHooks();
  const oauth = new OAuthStore(clock);
  const store = new GmailStore(clock);
  const push = new PushDelivery({
    endpoint: opts.pushEndpoint,
    audience: opts.pushAudience,
    serviceAccount: opts.pushServiceAccount,
    topicName: opts.topicName,
    keys,
    logger,
    clock,
  });
  // With a pull subscription, notifications go only through the gRPC Pub/Sub, so that a test of
  // pull cannot pass thanks to push.
  const pubsub = opts.pullSubscription
    ? createSandboxPubsub({ topicName: opts.topicName, subscription: opts.pullSubscription, logger, clock })
    : null;
  store.onChange((mailbox, record) => (pubsub ? pubsub.notify(mailbox, record) : push.notify(mailbox, record)));
  const delivery = new MailDelivery(store, logger, clock);
  const llmFaults = new LlmFaults();

  const routers = [
    oauthRouter({
      client: { clientId: opts.clientId, clientSecret: opts.clientSecret, redirectUris: opts.redirectUris },
      publicUrl,
      store: oauth,
      keys,
      clock,
      logger,
      onSignIn: (email) => void store.getOrCreate(email),
    }),
    gmailApiRouter({ store, oauth, delivery, clock, logger, topicName: opts.topicName, hooks }),
    llmRouter({ apiKey: opts.llmApiKey, clock, logger, hooks, faults: llmFaults }),
    llmFaultsRouter(llmFaults, logger),
    controlRouter({ store, oauth, delivery, logger }),
  ];
  const stack: Koa.Middleware[] = routers.map((r) => r.routes() as unknown as Koa.Middleware);

  const notFound = (ctx: Koa.Context) => {
    ctx.status = 404;
    ctx.body = { error: { code: 'not_found', message: `No sandbox route for ${ctx.method} ${ctx.path}`, details: [] } };
  };

  const middleware: Koa.Middleware = async (ctx, next) => {
    if (!SANDBOX_PATHS.test(ctx.path)) return next();
    const run = async (i: number): Promise<void> => {
      const layer = stack[i];
      if (!layer) return notFound(ctx);
      await layer(ctx, () => run(i + 1));
    };
    try {
      await run(0);
    } catch (err) {
      logger.error({ err: err instanceof Error ? err.message : String(err), path: ctx.path }, 'sandbox request failed');
      ctx.status = 500;
      ctx.body = { error: { code: 'sandbox_error', message: 'The sandbox failed to handle the request.', details: [] } };
    }
  };

  logger.info({ publicUrl }, 'sandbox started');
  return {
    middleware,
    close: async () => {
      hooks.clear();
      await push.close();
      await pubsub?.close();
    },
    signToken: (claims) => keys.sign(claims),
    hooks,
    pubsub,
  };
}
