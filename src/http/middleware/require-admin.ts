import type Koa from 'koa';
import { ForbiddenError } from '../../errors';
import { requireUser } from './require-user';

/**
 * Operators only: a signed-in user (with requireUser's checks, the absolute session lifetime
 * included) whose email is listed in ADMIN_EMAILS. Others 403, anonymous 401.
 */
export function requireAdmin(adminEmails: string[], emailOf: (userId: string) => Promise<string | undefined>, absoluteHours: number): Koa.Middleware {
  const admins = new Set(adminEmails);
  const signedIn = requireUser(absoluteHours);
  return (ctx, next) =>
    signedIn(ctx, async () => {
      const email = await emailOf(ctx.state.userId);
      if (!email || !admins.has(email)) throw new ForbiddenError('operators only');
      await next();
    });
}
