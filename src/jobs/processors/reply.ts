import type { Job } from 'bullmq';
import type { JobPayloads } from '../registry';
import { ReplyInFlightError, type RepliesService } from '../../services/replies';
import { GmailNotConnectedError, GmailRateLimitedError, httpStatusOf } from '../../gmail/errors';
import { isLlmError } from '../../ai/llm';
import { delayJob } from './delay';

/** A stable reason for a reply that failed for good (stored on the row, audited, counted). */
function failureReason(err: unknown): string {
  if (err instanceof GmailNotConnectedError) return err.reason === 'needs_reconsent' ? 'gmail_needs_reconsent' : 'gmail_not_connected';
  if (isLlmError(err)) return 'llm_failed';
  const status = httpStatusOf(err);
  if (status) return `gmail_http_${status}`;
  return 'internal_error';
}

export function replyProcessor(replies: RepliesService) {
  return async (job: Job<JobPayloads['reply']>, token?: string) => {
    const at = { jobId: job.id, requestId: job.data.requestId };
    try {
      return await replies.processReply(job.data.replyId, at);
    } catch (err) {
      if (err instanceof ReplyInFlightError || err instanceof GmailRateLimitedError) return delayJob(job, token, err.retryAt);
      const lastAttempt = err instanceof GmailNotConnectedError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      if (lastAttempt) await replies.markFailed(job.data.replyId, failureReason(err), at);
      throw err;
    }
  };
}
