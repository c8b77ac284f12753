import type Koa from 'koa';
import type { Redis } from 'ioredis';
import { AppError } from '../../errors';

declare module 'koa' {
  interface DefaultState {
    /** The signed-in user's requests in the current window, counted by the session read (session.ts). */
    userRequests?: UserRequestCount;
  }
}

export interface UserRequestCount {
  count: number;
  /** Until the window ends. */
  resetInMs: number;
}

export const USER_WINDOW_MS = 60_000;

/**
 * Reads a session and, when it belongs to a user, counts one request of that user in a fixed
 * one-minute window: one round trip to Redis instead of two (the session, then the limit), which
 * is most of what a signed-in read costs beyond its one select (BENCHMARKS.md). The counter's key
 * is built from the user id inside the script, so it is not declared in KEYS: this needs one Redis
 * (as the sessions and queues do), not a cluster. Returns {raw session or nil, count or nil, ms left
 * or nil}.
 */
const READ_SESSION_AND_COUNT = `
local raw = redis.call('GET', KEYS[1])
if not raw then return {false, false, false} end
local ok, session = pcall(cjson.decode, raw)
if not ok or type(session) ~= 'table' or type(session[ARGV[3]]) ~= 'string' then return {raw, false, false} end
local counter = ARGV[1] .. session[ARGV[3]]
local count = redis.call('INCR', counter)
local left = redis.call('PTTL', counter)
if left < 0 then
  redis.call('PEXPIRE', counter, ARGV[2])
  left = tonumber(ARGV[2])
end
return {raw, count, left}
`;

type Reply = [string | null, number | null, number | null];
type WithCommand = Redis & { readSessionAndCountUser(sessionKey: string, counterPrefix: string, windowMs: number, userField: string): Promise<Reply> };

/** The session read of session.ts for a request that the per-user limit counts. */
export function sessionReaderCountingUser(redis: Redis, counterPrefix: string, userField: string) {
  const client = redis as WithCommand;
  if (typeof client.readSessionAndCountUser !== 'function') {
    redis.defineCommand('readSessionAndCountUser', { numberOfKeys: 1, lua: READ_SESSION_AND_COUNT });
  }
  return async (sessionKey: string, ctx: Koa.Context): Promise<string | null> => {
    const [raw, count, left] = await client.readSessionAndCountUser(sessionKey, counterPrefix, USER_WINDOW_MS, userField);
    if (count !== null && left !== null) ctx.state.userRequests = { count, resetInMs: left };
    return raw;
  };
}

/**
 * The per-user limit on /api: over `max` requests in the window, 429 `rate_limited` with
 * Retry-After. Runs after requireUser; the count was taken when the session was read.
 */
export function userRateLimit(max: number): Koa.Middleware {
  return async (ctx, next) => {
    const counted = ctx.state.userRequests;
    // requireUser let the request in, so its session was read, and counted, in this request.
    if (!counted) throw new Error('the per-user limit runs after a session read that counts the user');
    const resetAt = Math.ceil((Date.now() + counted.resetInMs) / 1000);
    ctx.set('X-RateLimit-Limit', String(max));
    ctx.set('X-RateLimit-Remaining', String(Math.max(0, max - counted.count)));
    ctx.set('X-RateLimit-Reset', String(resetAt));
    if (counted.count > max) {
      const retryAfter = String(Math.max(1, Math.ceil(counted.resetInMs / 1000)));
      throw new AppError(429, 'rate_limited', 'too many requests; retry after the time in Retry-After', [], { 'Retry-After': retryAfter });
    }
    await next();
  };
}
