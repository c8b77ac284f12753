import Router from '@koa/router';
import { addRoute } from '../route-spec';
import { ROUTES } from '../route-table';

/**
 * GET /: where sign-in lands when no separate frontend is configured (FRONTEND_URL defaults to this
 * server). Names the service and where to go next; it shows no user data.
 */
export function rootRoutes(deps: { sandboxEnabled: boolean }): Router {
  const router = new Router();
  addRoute(router, ROUTES.root, (ctx) => {
    ctx.body = {
      service: 'gmail-assistant',
      links: { me: '/api/me', contacts: '/api/contacts', conversations: '/api/conversations', sign_in: '/auth/google' },
      sandbox: deps.sandboxEnabled,
    };
  });
  return router;
}
