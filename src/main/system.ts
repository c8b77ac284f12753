import http from 'node:http';
import type Koa from 'koa';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config';
import type { Logger } from '../observability/logger';
import { buildOpsApp } from '../http/ops-app';
import { answerClientErrorsAsJson } from '../http/client-errors';
import { startWorkers, type Workers } from '../jobs/workers';
// The web app, Bull Board, the sandbox and the Pub/Sub client are loaded (require below) only by
// the process that uses them: a worker has no use for most of them, and they weigh tens of MB.
import type { Sandbox } from '../sandbox';
import type { PullListener } from '../gmail/pubsub-pull';
import { createContainer, redisOptions, type Container } from './container';
import { createSignInFollowUp } from '../services/sign-in-follow-up';

export interface SystemOptions {
  config: Config;
  logger: Logger;
  web: boolean;
  worker: boolean;
  /** An http server already listening (tests listen on port 0 first to learn PUBLIC_URL). */
  server?: http.Server;
  host?: string;
}

export interface RunningSystem {
  container: Container;
  server: http.Server | null;
  /** The web app (its routers can be inspected), when the process serves the web. */
  app: Koa | null;
  url: string;
  workers: Workers | null;
  sandbox: Sandbox | null;
  /** The worker's side listener (/livez, /readyz, /metrics) when the process is a worker only. */
  opsServer: http.Server | null;
  /** Stops taking work, lets what runs finish, closes every connection. */
  close(): Promise<void>;
}

function listen(server: http.Server, port: number, host: string | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Starts the web process, the worker, or both (plus the sandbox in the web process when it is on). */
export async function startSystem(opts: SystemOptions): Promise<RunningSystem> {
  const { config, logger } = opts;
  const container = createContainer(config, logger);
  const { services } = container;
  let draining = false;
  const isDraining = () => draining;

  let sandbox: Sandbox | null = null;
  let server: http.Server | null = null;
  let app: Koa | null = null;
  if (opts.web) {
    if (config.sandboxEnabled) {
      const { createSandbox } = require('../sandbox') as typeof import('../sandbox');
      sandbox = createSandbox({
        publicUrl: config.publicUrl,
        clientId: config.google.clientId,
        clientSecret: config.google.clientSecret,
        redirectUris: [`${config.publicUrl}/auth/google/callback`],
        pushEndpoint: `${config.publicUrl}/webhooks/gmail`,
        pushAudience: config.google.pushAudience,
        pushServiceAccount: config.google.pushServiceAccount,
        topicName: config.google.pubsubTopic,
        llmApiKey: config.llm.apiKey,
        pullSubscription: config.pubsub.subscription || undefined,
        logger: logger.child({ component: 'sandbox' }),
      });
      // Pub/Sub pull: the sandbox's gRPC Pub/Sub, with the Gmail topic and the pull subscription.
      if (sandbox.pubsub) await sandbox.pubsub.listen(config.pubsub.sandboxPort);
    }
    const { buildApp } = require('../http/app') as typeof import('../http/app');
    const { bullBoardMiddleware } = require('../http/bull-board') as typeof import('../http/bull-board');
    app = buildApp({
      config,
      logger,
      metrics: container.metrics,
      redis: container.redis,
      oauthClient: container.oauthClient,
      services,
      verifyPush: container.verifyPush,
      healthChecks: container.healthChecks,
      errors: container.errors,
      isDraining,
      sandboxMiddleware: sandbox?.middleware,
      bullBoard: bullBoardMiddleware(container.queues.all),
      afterSignIn: createSignInFollowUp({ watch: services.watch, replies: services.replies, jobs: container.queues, logger }),
    });
    server = opts.server ?? http.createServer();
    answerClientErrorsAsJson(server);
    server.on('request', app.callback());
    if (!server.listening) await listen(server, config.port, opts.host);
  }

  // A worker alone gets a side port for probes and scrapes; with web in the process, the web serves them.
  // It listens first, so probes answer (503 not ready) while Redis or Postgres is still down.
  let opsServer: http.Server | null = null;
  if (opts.worker && !opts.web) {
    const ops = buildOpsApp({ logger, metrics: container.metrics, metricsToken: config.operations.metricsToken, healthChecks: container.healthChecks, isDraining });
    opsServer = http.createServer(ops.callback());
    await listen(opsServer, config.operations.workerMetricsPort, config.operations.workerMetricsHost);
    logger.info({ port: (opsServer.address() as AddressInfo).port }, 'worker http listening (/livez, /readyz, /metrics)');
  }

  let workers: Workers | null = null;
  if (opts.worker) {
    workers = startWorkers({
      connection: redisOptions(config.redisUrl),
      redisPrefix: config.redisPrefix,
      concurrency: config.worker.concurrency,
      lockMs: config.worker.lockMs,
      logger,
      metrics: container.metrics,
      errors: container.errors,
      services: { sync: services.sync, replies: services.replies, watch: services.watch, maintenance: services.maintenance },
    });
    const intervals = { reconcileMs: config.pipeline.reconcileIntervalSeconds * 1000, renewWatchesMs: config.pipeline.watchRenewIntervalHours * 3600_000 };
    const ensureSchedulers = () =>
      container.queues.ensureSchedulers(intervals).catch((err: unknown) => logger.warn({ err: { message: (err as Error).message } }, 'could not write the job schedulers; will retry on reconnect'));
    // Start-up waits briefly for the schedulers, never for Redis: when it is down they are written on
    // 'ready', and a Redis that restarted without persistence comes back empty, so they are written again.
    await Promise.race([ensureSchedulers(), new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
    container.redis.on('ready', () => void ensureSchedulers());
  }

  // Pub/Sub pull: the worker takes Gmail notifications from the subscription, besides the webhook.
  const pull: PullListener | null =
    opts.worker && config.pubsub.subscription
      ? (require('../gmail/pubsub-pull') as typeof import('../gmail/pubsub-pull')).startPullListener({
          subscription: config.pubsub.subscription,
          apiEndpoint: pullEndpoint(config, sandbox),
          local: config.sandboxEnabled,
          accept: (notification, requestId) => services.push.accept(notification, requestId),
          metrics: container.metrics,
          logger,
        })
      : null;

  const address = server?.address() as AddressInfo | null;
  const url = address ? `http://127.0.0.1:${address.port}` : config.publicUrl;
  logger.info({ web: opts.web, worker: opts.worker, sandbox: Boolean(sandbox), url: opts.web ? config.publicUrl : undefined }, 'started');

  return {
    container,
    server,
    app,
    url,
    workers,
    sandbox,
    opsServer,
    async close() {
      draining = true;
      if (server) {
        server.closeIdleConnections?.();
        await new Promise<void>((resolve) => server!.close(() => resolve()));
      }
      await pull?.close();
      await workers?.close();
      if (opsServer) {
        opsServer.closeIdleConnections?.();
        await new Promise<void>((resolve) => opsServer!.close(() => resolve()));
      }
      await sandbox?.close();
      await container.close();
    },
  };
}

/**
 * The Pub/Sub endpoint to pull from. The sandbox's default names the configured port; when that is
 * 0 only the sandbox in this process knows the port it got.
 */
function pullEndpoint(config: Config, sandbox: Sandbox | null): string {
  const sandboxPort = sandbox?.pubsub?.port;
  if (sandboxPort && config.pubsub.apiEndpoint === `127.0.0.1:${config.pubsub.sandboxPort}`) return `127.0.0.1:${sandboxPort}`;
  if (config.pubsub.apiEndpoint.endsWith(':0')) {
    throw new Error('PUBSUB_API_ENDPOINT ends in port 0: with a separate worker process set SANDBOX_PUBSUB_PORT (or PUBSUB_API_ENDPOINT) to a real port');
  }
  return config.pubsub.apiEndpoint;
}
