import type { JobProducer } from '../jobs/queues';
import type { Logger } from '../observability/logger';
import type { MailboxSyncService } from './mailbox-sync';
import type { RepliesService } from './replies';
import type { WatchService } from './gmail-watch';

export interface MaintenanceDeps {
  sync: MailboxSyncService;
  replies: RepliesService;
  watch: WatchService;
  jobs: JobProducer;
  logger: Logger;
}

/**
 * The periodic safety nets. Pushes get lost (Pub/Sub drops, Gmail batches, our webhook was down)
 * and queued jobs can vanish with Redis: the reconcile syncs every connected mailbox from its
 * cursor and queues again every reply that waits with nobody working on it. The watch renewal
 * keeps Gmail publishing changes (a watch ends after 7 days).
 */
export function createMaintenanceService(deps: MaintenanceDeps) {
  return {
    async reconcile(): Promise<{ mailboxes: number; repliesRequeued: number }> {
      const users = await deps.sync.connectedUserIds();
      await deps.jobs.enqueueMailboxSyncs(users, 'reconcile');
      let requeued = 0;
      for (const replyId of await deps.replies.stuckReplyIds()) {
        if (await deps.jobs.requeueReply(replyId)) requeued += 1;
      }
      if (requeued > 0) deps.logger.warn({ repliesRequeued: requeued }, 'reconcile queued stuck replies again');
      return { mailboxes: users.length, repliesRequeued: requeued };
    },

    async renewWatches(): Promise<{ mailboxes: number }> {
      const users = await deps.watch.connectedUserIds();
      for (const userId of users) await deps.jobs.enqueueWatch({ userId });
      return { mailboxes: users.length };
    },
  };
}

export type MaintenanceService = ReturnType<typeof createMaintenanceService>;
