import session from 'koa-session';
import type Koa from 'koa';
import type { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { sessionReaderCountingUser } from './user-rate-limit';
import { SESSION_USER_KEY } from './require-user';

export interface SessionSettings {
  redis: Redis;
  keyPrefix: string;
  idleMinutes: number;
  /**
   * Requests for which reading the session also counts its user for the per-user limit
   * (user-rate-limit.ts), in the same round trip to Redis.
   */
  countsUser(ctx: Koa.Context): boolean;
}

/** The cookie's name: `__Host-` prefixed (Secure, path /, no domain: only this origin) over TLS. */
export function sessionCookieName(ctx: Koa.Context): string {
  return ctx.secure ? '__Host-sid' : 'sid';
}

/**
 * Server-side sessions in Redis: the cookie carries only a random, signed session id (HttpOnly,
 * SameSite=Lax). Whether the request came over TLS (ctx.secure, which trusts X-Forwarded-Proto
 * only when TRUST_PROXY is set) decides per request whether the cookie is Secure and
 * `__Host-`-prefixed, so a plain-HTTP request gets a plain cookie instead of an error.
 */
export function sessionMiddleware(app: Koa, s: SessionSettings): Koa.Middleware {
  const prefix = `${s.keyPrefix}:sess:`;
  const maxAge = s.idleMinutes * 60_000;
  const readCounting = sessionReaderCountingUser(s.redis, `${s.keyPrefix}:ratelimit:user-window:`, SESSION_USER_KEY);
  const store = {
    async get(key: string, _maxAge: unknown, opts?: { ctx?: Koa.Context }) {
      const ctx = opts?.ctx;
      const raw = ctx && s.countsUser(ctx) ? await readCounting(prefix + key, ctx) : await s.redis.get(prefix + key);
      return raw ? (JSON.parse(raw) as Record<string, unknown>) : undefined;
    },
    async set(key: string, data: unknown, ttl: number) {
      await s.redis.set(prefix + key, JSON.stringify(data), 'PX', Math.max(1000, Math.floor(ttl)));
    },
    async destroy(key: string) {
      await s.redis.del(prefix + key);
    },
  };
  const cookie = { httpOnly: true, signed: true, sameSite: 'lax' as const, path: '/', overwrite: true };
  return session(
    {
      key: 'sid',
      maxAge,
      renew: true,
      ...cookie,
      store,
      externalKey: {
        get: (ctx: Koa.Context) => ctx.cookies.get(sessionCookieName(ctx), { signed: true }) ?? '',
        set: (ctx: Koa.Context, id: string) => {
          ctx.cookies.set(sessionCookieName(ctx), id, { ...cookie, maxAge, secure: ctx.secure });
        },
      },
      genid: () => randomBytes(24).toString('base64url'),
    },
    app,
  );
}

/** Removes the session cookie from the browser (the session itself is destroyed in Redis by koa-session). */
export function clearSessionCookie(ctx: Koa.Context): void {
  ctx.cookies.set(sessionCookieName(ctx), '', { httpOnly: true, signed: true, sameSite: 'lax', path: '/', secure: ctx.secure, expires: new Date(0) });
}
