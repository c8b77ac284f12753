import type { Job } from 'bullmq';
import type { JobPayloads } from '../registry';
import type { MailboxSyncService } from '../../services/mailbox-sync';
import { GmailRateLimitedError } from '../../gmail/errors';
import { delayJob } from './delay';

export function mailboxSyncProcessor(sync: MailboxSyncService) {
  return async (job: Job<JobPayloads['mailbox-sync']>, token?: string) => {
    try {
      return await sync.syncMailbox(job.data.userId, { jobId: job.id, requestId: job.data.requestId });
    } catch (err) {
      if (err instanceof GmailRateLimitedError) return delayJob(job, token, err.retryAt);
      throw err;
    }
  };
}
