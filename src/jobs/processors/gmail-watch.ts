import type { Job } from 'bullmq';
import type { JobPayloads } from '../registry';
import type { WatchService } from '../../services/gmail-watch';

export function gmailWatchProcessor(watch: WatchService) {
  return async (job: Job<JobPayloads['gmail-watch']>) => {
    const { expiresAt } = await watch.startWatch(job.data.userId);
    return { expiresAt: expiresAt.toISOString() };
  };
}
