import Router from '@koa/router';
import { addRoute } from '../route-spec';
import { ROUTES } from '../route-table';

export interface HealthDeps {
  /** Each check resolves when its dependency answers. */
  checks: Record<string, () => Promise<unknown>>;
  timeoutMs?: number;
  /** True once the process is shutting down: not ready, so that traffic and work go elsewhere. */
  isDraining?: () => boolean;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timeout')), ms);
    p.then((v) => { clearTimeout(timer); resolve(v); }, (e: unknown) => { clearTimeout(timer); reject(e as Error); });
  });
}

/** GET /livez (the process answers) and GET /readyz (Postgres and Redis answer and no shutdown is under way, else 503). */
export function healthRoutes(deps: HealthDeps): Router {
  const router = new Router();
  addRoute(router, ROUTES.livez, (ctx) => {
    ctx.body = { status: 'ok' };
  });
  addRoute(router, ROUTES.readyz, async (ctx) => {
    if (deps.isDraining?.()) {
      ctx.status = 503;
      ctx.body = { status: 'draining', checks: {} };
      return;
    }
    const results: Record<string, 'ok' | 'unavailable'> = {};
    await Promise.all(
      Object.entries(deps.checks).map(async ([name, check]) => {
        try {
          await withTimeout(check(), deps.timeoutMs ?? 2000);
          results[name] = 'ok';
        } catch {
          results[name] = 'unavailable';
        }
      }),
    );
    const ready = Object.values(results).every((r) => r === 'ok');
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: ready ? 'ok' : 'unavailable', checks: results };
  });
  return router;
}
