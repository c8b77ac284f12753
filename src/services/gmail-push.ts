import type { UsersService } from './users';
import type { JobProducer } from '../jobs/queues';
import type { GmailNotification } from '../gmail/push-notification';

export type PushOutcome = 'queued' | 'unknown_mailbox';

/**
 * A Gmail notification only says "something changed in this mailbox": it enqueues a sync of the
 * user's mailbox from the stored cursor, whatever historyId it carries.
 */
export function createPushService(deps: { users: UsersService; jobs: JobProducer }) {
  return {
    async accept(notification: GmailNotification, requestId: string): Promise<PushOutcome> {
      const user = await deps.users.findByEmail(notification.emailAddress);
      if (!user) return 'unknown_mailbox';
      await deps.jobs.enqueueMailboxSync({ userId: user.id, trigger: 'push', requestId });
      return 'queued';
    },
  };
}

export type PushService = ReturnType<typeof createPushService>;
