import Router from '@koa/router';
import type Koa from 'koa';
import { addGuardedRoute, addRoute } from '../route-spec';
import { ROUTES } from '../route-table';
import type { AuditPageInput, AuditTrail } from '../../services/audit-trail';

/** GET /api/audit: the signed-in user's own trail (mounted behind the session check of /api). */
export function auditRoutes(deps: { trail: AuditTrail }): Router {
  const router = new Router();
  addRoute(router, ROUTES.listAudit, async (ctx) => {
    ctx.body = await deps.trail.listForUser(ctx.state.userId, ctx.state.input.query as unknown as AuditPageInput);
  });
  return router;
}

/** GET /admin/audit: every record, for operators (the guard answers 401 or 403 first). */
export function adminAuditRoutes(deps: { trail: AuditTrail; requireAdmin: Koa.Middleware }): Router {
  const router = new Router();
  addGuardedRoute(router, ROUTES.listAllAudit, [deps.requireAdmin], async (ctx) => {
    ctx.body = await deps.trail.listAll(ctx.state.input.query as unknown as AuditPageInput & { user_id?: string; action?: string });
  });
  return router;
}
