import Router from '@koa/router';
import { validate } from '../middleware/validate';
import { pageQuery } from '../../schemas/common';
import type { UsersService } from '../../services/users';
import type { ConversationsService } from '../../services/conversations';

export function meRoutes(deps: { users: UsersService; conversations: ConversationsService }): Router {
  const router = new Router();

  router.get('/api/me', async (ctx) => {
    ctx.body = await deps.users.me(ctx.state.userId);
  });

  router.get('/api/conversations', validate({ query: pageQuery }), async (ctx) => {
    ctx.body = await deps.conversations.list(ctx.state.userId, ctx.state.input.query as { limit: number; cursor?: string });
  });

  return router;
}
