import { gmail, type gmail_v1 } from 'googleapis/build/src/apis/gmail';
import type { Config } from '../config';
import type { Logger } from '../observability/logger';
import { createOAuthClient } from './oauth-client';
import type { ConnectionStore } from './connections';

export type Gmail = gmail_v1.Gmail;

export class GmailNotConnectedError extends Error {
  constructor(readonly userId: string) {
    super(`user ${userId} has no Gmail grant`);
  }
}

export interface GmailClients {
  forUser(userId: string): Promise<Gmail>;
}

/**
 * Builds the googleapis Gmail client of one user from the stored grant. Refreshed access tokens
 * are written back (encrypted) so other processes reuse them.
 */
export function createGmailClients(config: Config, connections: ConnectionStore, logger: Logger): GmailClients {
  return {
    async forUser(userId) {
      const grant = await connections.readGrant(userId);
      if (!grant || (!grant.refreshToken && !grant.accessToken)) throw new GmailNotConnectedError(userId);
      const auth = createOAuthClient(config);
      auth.setCredentials({
        refresh_token: grant.refreshToken ?? undefined,
        access_token: grant.accessToken ?? undefined,
        expiry_date: grant.accessTokenExpiresAt?.getTime(),
      });
      auth.on('tokens', (tokens) => {
        connections
          .saveTokens(userId, {
            accessToken: tokens.access_token ?? undefined,
            refreshToken: tokens.refresh_token ?? undefined,
            expiresAt: tokens.expiry_date ? new Date(tokens.expiry_date) : undefined,
          })
          .catch((err: unknown) => logger.warn({ err, userId }, 'could not store refreshed Gmail token'));
      });
      return gmail({ version: 'v1', auth, rootUrl: config.google.gmailRootUrl });
    },
  };
}
