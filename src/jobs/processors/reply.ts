import type { Job } from 'bullmq';
import type { JobPayloads } from '../registry';
import type { RepliesService } from '../../services/replies';

export function replyProcessor(replies: RepliesService) {
  return async (job: Job<JobPayloads['reply']>) => replies.processReply(job.data.replyId, { jobId: job.id, requestId: job.data.requestId });
}
