import Router from '@koa/router';
import { addRoute } from '../route-spec';
import { ROUTES } from '../route-table';
import type { UsersService } from '../../services/users';

/** Operator endpoints (mounted behind the admin guard and the JSON body parser). */
export function adminRoutes(deps: { users: UsersService }): Router {
  const router = new Router();

  addRoute(router, ROUTES.setSubscription, async (ctx) => {
    const { email } = ctx.state.input.params as { email: string };
    const { is_subscription_active: active } = ctx.state.input.body as { is_subscription_active: boolean };
    const user = await deps.users.setSubscription(email, active, { requestId: ctx.state.requestId, actorType: 'admin', actorUserId: ctx.state.userId, via: 'api' });
    ctx.body = { id: user.id, email: user.email, is_subscription_active: user.is_subscription_active };
  });

  return router;
}
