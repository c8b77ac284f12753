import Router from '@koa/router';
import { validate } from '../middleware/validate';
import { pageQuery } from '../../schemas/common';
import type { UsersService } from '../../services/users';
import type { ConversationsService } from '../../services/conversations';
import type { AccountDeletion } from '../../services/account-deletion';
import { NotFoundError, UnauthenticatedError } from '../../errors';
import { clearSessionCookie } from '../middleware/session';

export function meRoutes(deps: { users: UsersService; conversations: ConversationsService; accounts: AccountDeletion }): Router {
  const router = new Router();

  router.get('/api/me', async (ctx) => {
    try {
      ctx.body = await deps.users.me(ctx.state.userId);
    } catch (err) {
      // A session that outlived its account (deleted from another session).
      if (!(err instanceof NotFoundError)) throw err;
      ctx.session = null;
      throw new UnauthenticatedError('this account no longer exists');
    }
  });

  router.delete('/api/me', async (ctx) => {
    await deps.accounts.deleteAccount(ctx.state.userId, { requestId: ctx.state.requestId });
    ctx.session = null;
    clearSessionCookie(ctx);
    ctx.status = 204;
  });

  router.get('/api/conversations', validate({ query: pageQuery }), async (ctx) => {
    ctx.body = await deps.conversations.list(ctx.state.userId, ctx.state.input.query as { limit: number; cursor?: string });
  });

  return router;
}
