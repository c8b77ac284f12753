import type { Knex } from 'knex';
import type { ConnectionStore } from '../gmail/connections';
import type { JobProducer } from '../jobs/queues';
import type { Logger } from '../observability/logger';
import type { AuditContext, AuditLog } from './audit';
import type { WatchService } from './gmail-watch';

export interface AccountDeletionDeps {
  db: Knex;
  connections: ConnectionStore;
  watch: WatchService;
  jobs: JobProducer;
  /** Revokes a Google OAuth token (and with a refresh token, the whole grant). */
  revokeToken(token: string): Promise<void>;
  audit: AuditLog;
  logger: Logger;
}

/**
 * Deletes an account and everything it holds: Gmail stops publishing the mailbox, Google revokes
 * our access, the queued work goes, and the user's rows (tokens, contacts, history, conversations,
 * replies) are removed in one transaction; the audit trail stays (ids and actions only, no personal data) and ends with `account.deleted`.
 * Google's side is best effort: the data is deleted whatever Google answers.
 */
export function createAccountDeletion(deps: AccountDeletionDeps) {
  const { db, logger } = deps;
  return {
    async deleteAccount(userId: string, at: AuditContext): Promise<void> {
      const watchStopped = await deps.watch.stopWatch(userId);
      let grantRevoked = false;
      const grant = await deps.connections.readGrant(userId).catch(() => null);
      const token = grant?.refreshToken ?? grant?.accessToken;
      if (token) {
        try {
          await deps.revokeToken(token);
          grantRevoked = true;
        } catch (err) {
          logger.warn({ userId, err: { name: (err as Error).name } }, 'google grant could not be revoked');
        }
      }
      const replyIds: string[] = await db('replies').where({ user_id: userId }).whereIn('status', ['pending', 'sending']).pluck('id');
      await deps.jobs.removeUserJobs(userId, replyIds).catch((err: unknown) => logger.warn({ userId, err: { message: (err as Error).message } }, 'queued jobs could not all be removed'));
      const deleted = await db.transaction(async (trx) => {
        // Contacts, history, conversations, replies and the Gmail connection go with the user (ON DELETE CASCADE).
        const removed = await trx('users').where({ id: userId }).delete();
        // Two deletions at once (a double click): the second waits for the first and finds nothing.
        if (removed === 0) return false;
        await deps.audit({ actorType: 'user', actorUserId: userId, action: 'account.deleted', entityType: 'user', entityId: userId, metadata: { watch_stopped: watchStopped, grant_revoked: grantRevoked } }, at, trx);
        return true;
      });
      if (deleted) logger.info({ userId, watchStopped, grantRevoked }, 'account deleted');
      else logger.info({ userId }, 'account already deleted by another request');
    },
  };
}

export type AccountDeletion = ReturnType<typeof createAccountDeletion>;
