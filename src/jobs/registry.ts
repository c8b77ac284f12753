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

export const DEFAULT_JOB_OPTIONS = {
  attempts: 6,
  backoff: { type: 'exponential', delay: 2000 },
  removeOnComplete: { age: 24 * 3600, count: 10_000 },
  removeOnFail: { age: 14 * 24 * 3600 },
} as const;
