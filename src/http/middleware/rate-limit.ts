import ratelimit from 'koa-ratelimit';
import type Koa from 'koa';
import type { Redis } from 'ioredis';

export interface RateLimitSettings {
  redis: Redis;
  keyPrefix: string;
  /** Requests per minute. */
  max: number;
  /** Name of the limit, part of its Redis keys. */
  scope: string;
  /** Who is counted: an IP address or a user id; false to leave the request uncounted. */
  id(ctx: Koa.Context): string | false;
}

/**
 * A sliding-window limit per minute, counted in Redis (so it holds across web processes). Over it
 * the answer is 429 `rate_limited` with Retry-After. ctx.ip honours X-Forwarded-For only when
 * TRUST_PROXY is set.
 */
export function rateLimit(s: RateLimitSettings): Koa.Middleware {
  return ratelimit({
    driver: 'redis',
    db: s.redis,
    namespace: `${s.keyPrefix}:ratelimit:${s.scope}`,
    duration: 60_000,
    max: s.max,
    id: s.id,
    throw: true,
    errorMessage: 'too many requests; retry later',
  } as unknown as Parameters<typeof ratelimit>[0]);
}
