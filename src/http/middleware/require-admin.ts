import type Koa from 'koa';
import { ForbiddenError, UnauthenticatedError } from '../../errors';
import { SESSION_USER_KEY } from './require-user';

/** Operators only: a signed-in user whose email is listed in ADMIN_EMAILS (others 403, anonymous 401). */
export function requireAdmin(adminEmails: string[], emailOf: (userId: string) => Promise<string | undefined>): Koa.Middleware {
  const admins = new Set(adminEmails);
  return async (ctx, next) => {
    const userId = ctx.session?.[SESSION_USER_KEY];
    if (typeof userId !== 'string') throw new UnauthenticatedError();
    const email = await emailOf(userId);
    if (!email || !admins.has(email)) throw new ForbiddenError('operators only');
    ctx.state.userId = userId;
    await next();
  };
}
