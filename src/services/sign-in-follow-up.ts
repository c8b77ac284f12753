import type { JobProducer } from '../jobs/queues';
import type { Logger } from '../observability/logger';
import type { WatchService } from './gmail-watch';
import type { RepliesService } from './replies';

/**
 * What follows a successful sign-in: Gmail starts publishing the user's new mail (a failed watch
 * is queued to be tried again), replies that failed only because Google had revoked our access are
 * queued again, and the mailbox is synced from its cursor so mail that came meanwhile is answered.
 */
export function createSignInFollowUp(deps: { watch: WatchService; replies: RepliesService; jobs: JobProducer; logger: Logger }) {
  return async (userId: string, requestId: string): Promise<void> => {
    try {
      await deps.watch.startWatch(userId);
    } catch {
      deps.logger.warn({ userId }, 'watch at sign-in failed; queued for retry');
      await deps.jobs.enqueueWatch({ userId });
    }
    for (const replyId of await deps.replies.retryAfterReconsent(userId)) await deps.jobs.requeueReply(replyId);
    await deps.jobs.enqueueMailboxSync({ userId, trigger: 'sign-in', requestId });
  };
}
