import type { Knex } from 'knex';
import type { GmailClients } from '../gmail/client';
import type { Logger } from '../observability/logger';

export interface WatchDeps {
  db: Knex;
  gmailClients: GmailClients;
  topicName: string;
  logger: Logger;
}

/**
 * Asks Gmail to publish changes of the user's INBOX to our Pub/Sub topic. The first watch also sets
 * the history cursor, so only mail that arrives from now on is processed.
 */
export function createWatchService(deps: WatchDeps) {
  return {
    async startWatch(userId: string): Promise<{ expiresAt: Date; historyId: string }> {
      const gmail = await deps.gmailClients.forUser(userId);
      try {
        const { data } = await gmail.users.watch({
          userId: 'me',
          requestBody: { topicName: deps.topicName, labelIds: ['INBOX'], labelFilterBehavior: 'include' },
        });
        const expiresAt = new Date(Number(data.expiration));
        const historyId = String(data.historyId);
        await deps.db('gmail_connections')
          .where({ user_id: userId })
          .update({
            watch_expires_at: expiresAt,
            watch_error: null,
            history_id: deps.db.raw('COALESCE(history_id, ?::numeric)', [historyId]),
            updated_at: new Date(),
          });
        deps.logger.info({ userId, expiresAt: expiresAt.toISOString() }, 'gmail watch started');
        return { expiresAt, historyId };
      } catch (err) {
        const message = (err as Error).message?.slice(0, 200) ?? 'unknown error';
        await deps.db('gmail_connections').where({ user_id: userId }).update({ watch_error: message, updated_at: new Date() });
        throw err;
      }
    },
  };
}

export type WatchService = ReturnType<typeof createWatchService>;
