import Router from '@koa/router';
import { addRoute } from '../route-spec';
import { ROUTES } from '../route-table';
import type { UsersService } from '../../services/users';
import type { ConversationsService } from '../../services/conversations';
import type { AccountDeletion } from '../../services/account-deletion';
import { NotFoundError, UnauthenticatedError } from '../../errors';
import { clearSessionCookie } from '../middleware/session';

export function meRoutes(deps: { users: UsersService; conversations: ConversationsService; accounts: AccountDeletion }): Router {
  const router = new Router();

  addRoute(router, ROUTES.getMe, async (ctx) => {
    try {
      ctx.body = await deps.users.me(ctx.state.userId);
    } catch (err) {
      // A session that outlived its account (deleted from another session).
      if (!(err instanceof NotFoundError)) throw err;
      ctx.session = null;
      throw new UnauthenticatedError('this account no longer exists');
    }
  });

  addRoute(router, ROUTES.deleteMe, async (ctx) => {
    await deps.accounts.deleteAccount(ctx.state.userId, { requestId: ctx.state.requestId });
    ctx.session = null;
    clearSessionCookie(ctx);
    ctx.status = 204;
  });

  addRoute(router, ROUTES.listConversations, async (ctx) => {
    ctx.body = await deps.conversations.list(ctx.state.userId, ctx.state.input.query as { limit: number; cursor?: string });
  });

  return router;
}
