import type Koa from 'koa';
import { UnauthenticatedError } from '../../errors';

export const SESSION_USER_KEY = 'uid';
export const SESSION_SIGNED_IN_AT_KEY = 'signed_in_at';

declare module 'koa' {
  interface DefaultState {
    userId: string;
  }
}

/** Every /api route: a signed-in session within its absolute lifetime, else 401. */
export function requireUser(absoluteHours: number): Koa.Middleware {
  const maxAgeMs = absoluteHours * 3600_000;
  return async (ctx, next) => {
    const session = ctx.session;
    const userId = session?.[SESSION_USER_KEY];
    const signedInAt = session?.[SESSION_SIGNED_IN_AT_KEY];
    if (typeof userId !== 'string' || typeof signedInAt !== 'number') throw new UnauthenticatedError();
    if (Date.now() - signedInAt > maxAgeMs) {
      ctx.session = null;
      throw new UnauthenticatedError('session expired; sign in again');
    }
    ctx.state.userId = userId;
    await next();
  };
}
