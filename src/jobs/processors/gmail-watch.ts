import type { Job } from 'bullmq';
import type { JobPayloads } from '../registry';
import type { WatchService } from '../../services/gmail-watch';
import { GmailRateLimitedError } from '../../gmail/errors';
import { delayJob } from './delay';

export function gmailWatchProcessor(watch: WatchService) {
  return async (job: Job<JobPayloads['gmail-watch']>, token?: string) => {
    try {
      const { expiresAt } = await watch.startWatch(job.data.userId);
      return { expiresAt: expiresAt.toISOString() };
    } catch (err) {
      if (err instanceof GmailRateLimitedError) return delayJob(job, token, err.retryAt);
      throw err;
    }
  };
}
