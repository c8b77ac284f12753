import Router from '@koa/router';
import { timingSafeEqual } from 'node:crypto';
import type { Registry } from 'prom-client';
import { AppError } from '../../errors';
import { addRoute } from '../route-spec';
import { ROUTES } from '../route-table';

export interface MetricsRouteDeps {
  registry: Registry;
  /** Bearer token a scraper must present; empty: no token asked. */
  token: string;
  /** Whether /metrics answers without a token (off on a public port in production). */
  openWithoutToken: boolean;
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** GET /metrics: the process's Prometheus metrics, behind a bearer token when one is configured. */
export function metricsRoutes(deps: MetricsRouteDeps): Router {
  const router = new Router();
  addRoute(router, ROUTES.metrics, async (ctx) => {
    if (deps.token) {
      const match = /^Bearer (.+)$/i.exec(ctx.get('authorization'));
      if (!match || !sameSecret(match[1]!, deps.token)) {
        throw new AppError(401, 'unauthenticated', 'a valid metrics bearer token is required', [], { 'WWW-Authenticate': 'Bearer realm="metrics"' });
      }
    } else if (!deps.openWithoutToken) {
      throw new AppError(404, 'not_found', 'no such route');
    }
    ctx.type = deps.registry.contentType;
    ctx.body = await deps.registry.metrics();
  });
  return router;
}
