import type { Job } from 'bullmq';
import type { JobPayloads } from '../registry';
import type { MailboxSyncService } from '../../services/mailbox-sync';

export function mailboxSyncProcessor(sync: MailboxSyncService) {
  return async (job: Job<JobPayloads['mailbox-sync']>) => sync.syncMailbox(job.data.userId, { jobId: job.id, requestId: job.data.requestId });
}
