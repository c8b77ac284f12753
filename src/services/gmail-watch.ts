import type { Knex } from 'knex';
import type { GmailClients, GmailMailbox } from '../gmail/client';
import { GmailNotConnectedError, GmailRateLimitedError, httpStatusOf } from '../gmail/errors';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';

export interface WatchDeps {
  db: Knex;
  gmailClients: GmailClients;
  topicName: string;
  logger: Logger;
  metrics: Metrics;
}

/** Gmail refuses a watch while another client's watch is registered: stop it, then watch again. */
function isOnlyOneClientError(err: unknown): boolean {
  return httpStatusOf(err) === 400 && /only one user push notification client allowed/i.test((err as Error).message ?? '');
}

/** A short, stable description of why a watch failed: shown to the user, never Google's message text. */
function watchFailure(err: unknown): string {
  if (err instanceof GmailNotConnectedError) return err.reason;
  if (err instanceof GmailRateLimitedError) return 'gmail_rate_limited';
  const status = httpStatusOf(err);
  return status ? `gmail_http_${status}` : 'gmail_unreachable';
}

/**
 * Asks Gmail to publish changes of the user's INBOX to our Pub/Sub topic (renewed daily: Gmail
 * drops a watch after 7 days). The first watch also sets the history cursor, so only mail that
 * arrives from then on is processed. A failure is stored on the connection (shown in /api/me and
 * counted by the gmail_watches_failing metric) until a watch succeeds.
 */
export function createWatchService(deps: WatchDeps) {
  const { db, logger, metrics } = deps;

  async function watchOnce(gmail: GmailMailbox) {
    try {
      return await gmail.watch(deps.topicName, ['INBOX']);
    } catch (err) {
      if (!isOnlyOneClientError(err)) throw err;
      logger.info({ event: 'watch_conflict' }, 'gmail has another push client registered: stopping it and watching again');
      await gmail.stop();
      return gmail.watch(deps.topicName, ['INBOX']);
    }
  }

  return {
    async startWatch(userId: string): Promise<{ expiresAt: Date; historyId: string }> {
      try {
        const gmail = await deps.gmailClients.forUser(userId);
        const { historyId, expiration } = await watchOnce(gmail);
        await db('gmail_connections')
          .where({ user_id: userId })
          .update({
            watch_expires_at: expiration,
            watch_error: null,
            history_id: db.raw('COALESCE(history_id, ?::numeric)', [historyId]),
            updated_at: new Date(),
          });
        metrics.watchRenewals.inc({ outcome: 'ok' });
        logger.info({ userId, expiresAt: expiration.toISOString() }, 'gmail watch started');
        return { expiresAt: expiration, historyId };
      } catch (err) {
        const failure = watchFailure(err);
        metrics.watchRenewals.inc({ outcome: 'failed' });
        logger.warn({ userId, failure }, 'gmail watch failed');
        await db('gmail_connections').where({ user_id: userId }).update({ watch_error: failure, updated_at: new Date() });
        throw err;
      }
    },

    /** Best effort: the account is going away whatever Gmail answers. */
    async stopWatch(userId: string): Promise<boolean> {
      try {
        const gmail = await deps.gmailClients.forUser(userId);
        await gmail.stop();
        return true;
      } catch (err) {
        logger.warn({ userId, failure: watchFailure(err) }, 'gmail watch could not be stopped');
        return false;
      }
    },

    /** Users whose watch the daily renewal asks Gmail for again. */
    async connectedUserIds(): Promise<string[]> {
      const rows = await db('gmail_connections').where({ status: 'ok' }).whereNotNull('refresh_token').select('user_id');
      return rows.map((r: { user_id: string }) => r.user_id);
    },
  };
}

export type WatchService = ReturnType<typeof createWatchService>;
