import type { UsersService } from './users';
import type { JobProducer } from '../jobs/queues';
import type { GmailNotification } from '../gmail/push-notification';
import { normalizeEmail } from '../crypto/blind-index';

export type PushOutcome = 'queued' | 'unknown_mailbox';

/** How long a mailbox address → user id answer is reused (a mailbox pushes many times a minute). */
const KNOWN_MAILBOX_TTL_MS = 60_000;
const KNOWN_MAILBOX_MAX = 10_000;

/**
 * A Gmail notification only says "something changed in this mailbox": it enqueues a sync of the
 * user's mailbox from the stored cursor, whatever historyId it carries. Known mailboxes are
 * remembered for a minute (a user deleted meanwhile gets a sync that finds nobody and does
 * nothing); unknown ones are looked up every time, so a new sign-up is found at once.
 */
export function createPushService(deps: { users: UsersService; jobs: JobProducer }) {
  const known = new Map<string, { userId: string; until: number }>();

  async function userIdOf(address: string): Promise<string | null> {
    const key = normalizeEmail(address);
    const hit = known.get(key);
    if (hit && hit.until > Date.now()) return hit.userId;
    const user = await deps.users.findByEmail(key);
    if (!user) return null;
    if (known.size >= KNOWN_MAILBOX_MAX) known.clear();
    known.set(key, { userId: user.id, until: Date.now() + KNOWN_MAILBOX_TTL_MS });
    return user.id;
  }

  return {
    async accept(notification: GmailNotification, requestId: string): Promise<PushOutcome> {
      const userId = await userIdOf(notification.emailAddress);
      if (!userId) return 'unknown_mailbox';
      await deps.jobs.enqueueMailboxSync({ userId, trigger: 'push', requestId });
      return 'queued';
    },
  };
}

export type PushService = ReturnType<typeof createPushService>;
