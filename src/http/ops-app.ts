import Koa from 'koa';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import { requestContext } from './middleware/request-context';
import { errorHandler } from './middleware/errors';
import { healthRoutes } from './routes/health';
import { metricsRoutes } from './routes/metrics';

export interface OpsAppDeps {
  logger: Logger;
  metrics: Metrics;
  metricsToken: string;
  healthChecks: Record<string, () => Promise<unknown>>;
  isDraining: () => boolean;
}

/**
 * The worker's own small HTTP app, on a side port: /livez, /readyz and /metrics (behind the bearer
 * token when one is configured; the port itself is a separate listen address, never the public one).
 */
export function buildOpsApp(deps: OpsAppDeps): Koa {
  const app = new Koa();
  app.silent = true;
  // Probes and scrapes come every few seconds: their request lines stay below the default level.
  app.use(requestContext(deps.logger.child({ component: 'ops-http' }, { level: 'warn' })));
  app.use(errorHandler());
  const health = healthRoutes({ checks: deps.healthChecks, isDraining: deps.isDraining });
  const metrics = metricsRoutes({ registry: deps.metrics.registry, token: deps.metricsToken, openWithoutToken: true });
  app.use(health.routes());
  app.use(metrics.routes());
  return app;
}
