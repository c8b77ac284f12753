import session from 'koa-session';
import type Koa from 'koa';
import type { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';

export interface SessionSettings {
  redis: Redis;
  keyPrefix: string;
  idleMinutes: number;
  secureCookies: boolean;
}

/** Server-side sessions in Redis: the cookie carries only a random, signed session id. */
export function sessionMiddleware(app: Koa, s: SessionSettings): Koa.Middleware {
  const prefix = `${s.keyPrefix}:sess:`;
  const store = {
    async get(key: string) {
      const raw = await s.redis.get(prefix + key);
      return raw ? (JSON.parse(raw) as Record<string, unknown>) : undefined;
    },
    async set(key: string, data: unknown, maxAge: number) {
      await s.redis.set(prefix + key, JSON.stringify(data), 'PX', Math.max(1000, Math.floor(maxAge)));
    },
    async destroy(key: string) {
      await s.redis.del(prefix + key);
    },
  };
  return session(
    {
      key: s.secureCookies ? '__Host-sid' : 'sid',
      maxAge: s.idleMinutes * 60_000,
      renew: true,
      httpOnly: true,
      signed: true,
      sameSite: 'lax',
      secure: s.secureCookies,
      store,
      genid: () => randomBytes(24).toString('base64url'),
    },
    app,
  );
}
