import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { OAuth2Client } from 'google-auth-library';
import type { Logger } from '../observability/logger';
import type { ConnectionStore } from './connections';
import { GmailNotConnectedError, isInvalidGrant } from './errors';

export interface AccessToken {
  token: string;
  expiresAt: Date | null;
}

export interface AccessTokensDeps {
  connections: ConnectionStore;
  /** A fresh OAuth client (Google's token endpoint, or the sandbox's). */
  newOAuthClient(): OAuth2Client;
  redis: Redis;
  keyPrefix: string;
  logger: Logger;
  now?: () => number;
}

/** A token this close to its expiry is refreshed before use. */
const EXPIRY_MARGIN_MS = 60_000;
const LOCK_TTL_MS = 15_000;
const LOCK_WAIT_MS = 20_000;
const LOCK_POLL_MS = 100;

const RELEASE_LOCK = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/**
 * Gives the access token of a user's Gmail grant, refreshing it when it is about to expire or Gmail
 * refused it. A refresh is single-flight per user: one promise per user in this process, and a Redis
 * lock across processes, after which the stored grant is read again (another process may have
 * refreshed it meanwhile). A refresh that Google answers with invalid_grant marks the connection as
 * needing the user's consent again and fails with GmailNotConnectedError.
 */
export function createAccessTokens(deps: AccessTokensDeps) {
  const now = deps.now ?? Date.now;
  const inFlight = new Map<string, Promise<AccessToken>>();

  const usable = (token: string | null, expiresAt: Date | null, rejected: string | undefined): token is string =>
    Boolean(token) && token !== rejected && (!expiresAt || expiresAt.getTime() > now() + EXPIRY_MARGIN_MS);

  async function readUsable(userId: string, rejected: string | undefined): Promise<{ usable: AccessToken | null; refreshToken: string; stale: string | null }> {
    const grant = await deps.connections.readGrant(userId);
    if (!grant) throw new GmailNotConnectedError(userId, 'no_grant');
    if (grant.status === 'needs_reconsent') throw new GmailNotConnectedError(userId, 'needs_reconsent');
    if (usable(grant.accessToken, grant.accessTokenExpiresAt, rejected)) {
      return { usable: { token: grant.accessToken, expiresAt: grant.accessTokenExpiresAt }, refreshToken: grant.refreshToken ?? '', stale: null };
    }
    if (!grant.refreshToken) throw new GmailNotConnectedError(userId, 'no_grant');
    return { usable: null, refreshToken: grant.refreshToken, stale: grant.accessToken };
  }

  /** Refreshes the grant; `stale` is the stored access token this refresh replaces. */
  async function refresh(userId: string, refreshToken: string, stale: string | null): Promise<AccessToken> {
    const client = deps.newOAuthClient();
    client.setCredentials({ refresh_token: refreshToken });
    try {
      const { token } = await client.getAccessToken();
      if (!token) throw new Error('the token endpoint returned no access token');
      const expiresAt = client.credentials.expiry_date ? new Date(client.credentials.expiry_date) : null;
      const rotated = client.credentials.refresh_token && client.credentials.refresh_token !== refreshToken ? client.credentials.refresh_token : undefined;
      const stored = await deps.connections.saveRefreshedTokens(userId, { accessToken: token, expiresAt, refreshToken: rotated }, stale);
      deps.logger.info({ userId, stored }, 'gmail access token refreshed');
      return { token, expiresAt };
    } catch (err) {
      if (isInvalidGrant(err)) {
        const changed = await deps.connections.markNeedsReconsent(userId, refreshToken);
        deps.logger.warn({ userId, changed }, 'gmail grant revoked (invalid_grant): the user must sign in again');
        throw new GmailNotConnectedError(userId, 'needs_reconsent');
      }
      throw err;
    }
  }

  async function refreshUnderLock(userId: string, rejected: string | undefined): Promise<AccessToken> {
    const key = `${deps.keyPrefix}:lock:gmail-token:${userId}`;
    const owner = randomUUID();
    const deadline = now() + LOCK_WAIT_MS;
    while ((await deps.redis.set(key, owner, 'PX', LOCK_TTL_MS, 'NX')) !== 'OK') {
      await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
      const current = await readUsable(userId, rejected);
      if (current.usable) return current.usable;
      if (now() > deadline) throw new Error('another process holds the token refresh lock for too long');
    }
    try {
      const current = await readUsable(userId, rejected);
      return current.usable ?? (await refresh(userId, current.refreshToken, current.stale));
    } finally {
      await deps.redis.eval(RELEASE_LOCK, 1, key, owner).catch(() => undefined);
    }
  }

  return {
    /**
     * A usable access token. `rejected` is a token Gmail just refused (401): it is not given back,
     * even if its recorded expiry says it is still valid.
     */
    async get(userId: string, rejected?: string): Promise<AccessToken> {
      const current = await readUsable(userId, rejected);
      if (current.usable) return current.usable;
      const key = `${userId}:${rejected ?? ''}`;
      let pending = inFlight.get(key);
      if (!pending) {
        pending = refreshUnderLock(userId, rejected).finally(() => inFlight.delete(key));
        inFlight.set(key, pending);
      }
      return pending;
    },
  };
}

export type AccessTokens = ReturnType<typeof createAccessTokens>;
