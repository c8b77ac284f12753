/**
 * Every queue, its job payload and its default options, in one place. Payloads carry ids only:
 * BullMQ stores job data in Redis in clear text.
 */
export const QUEUE_NAMES = {
  mailboxSync: 'mailbox-sync',
  reply: 'reply',
  gmailWatch: 'gmail-watch',
  maintenance: 'maintenance',
} as const;

export type QueueName = (typeof QUEUE_NAMES)[keyof typeof QUEUE_NAMES];

export type MaintenanceTask = 'reconcile' | 'renew-watches';

export interface JobPayloads {
  'mailbox-sync': { userId: string; trigger: 'push' | 'pull' | 'sign-in' | 'reconcile' | 'manual'; requestId?: string };
  reply: { replyId: string; requestId?: string };
  'gmail-watch': { userId: string };
  maintenance: { task: MaintenanceTask };
}

export interface RetryPolicy {
  attempts: number;
  backoffMs: number;
}

/** Options of every job: retried with exponential backoff; finished jobs kept a while for Bull Board. */
export function jobOptions(retry: RetryPolicy) {
  return {
    attempts: retry.attempts,
    backoff: { type: 'exponential', delay: retry.backoffMs },
    removeOnComplete: { age: 24 * 3600, count: 10_000 },
    removeOnFail: { age: 14 * 24 * 3600 },
  };
}
