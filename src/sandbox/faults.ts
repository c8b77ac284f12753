/**
 * Per-mailbox misbehaviour switched on through the control endpoint, modelled on what Gmail and
 * Pub/Sub really do: duplicated, dropped and reordered pushes, expired history, rate limiting, a
 * send that fails before or after it took effect. Setting faults replaces the whole set; `{}`
 * clears it.
 */

/** With shuffle_pushes, each push delivery waits a random time up to this before it starts. */
export const SHUFFLE_MAX_DELAY_MS = 2000;

export type SendFailure = 'before' | 'after';

export interface FaultState {
  duplicatePushes: number;
  dropPushes: boolean;
  shufflePushes: boolean;
  expireHistory: boolean;
  rateLimitNext: number;
  failNextSend: SendFailure | null;
  /** Another client's watch is registered: users.watch fails until users.stop. */
  watchConflict: boolean;
}

export function noFaults(): FaultState {
  return { duplicatePushes: 1, dropPushes: false, shufflePushes: false, expireHistory: false, rateLimitNext: 0, failNextSend: null, watchConflict: false };
}

/** Body of POST .../faults, already validated by FAULTS_SCHEMA. */
export interface FaultRequest {
  duplicate_pushes?: number;
  drop_pushes?: boolean;
  shuffle_pushes?: boolean;
  expire_history?: boolean;
  rate_limit_next?: number;
  fail_next_send?: SendFailure | null;
  watch_conflict?: boolean;
  revoke_grant?: boolean;
}

export const FAULTS_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    duplicate_pushes: { type: 'integer', minimum: 1, maximum: 10 },
    drop_pushes: { type: 'boolean' },
    shuffle_pushes: { type: 'boolean' },
    expire_history: { type: 'boolean' },
    rate_limit_next: { type: 'integer', minimum: 0, maximum: 1000 },
    fail_next_send: { enum: ['before', 'after', null] },
    watch_conflict: { type: 'boolean' },
    revoke_grant: { type: 'boolean' },
  },
} as const;

export function faultsFromRequest(req: FaultRequest): FaultState {
  return {
    duplicatePushes: req.duplicate_pushes ?? 1,
    dropPushes: req.drop_pushes ?? false,
    shufflePushes: req.shuffle_pushes ?? false,
    expireHistory: req.expire_history ?? false,
    rateLimitNext: req.rate_limit_next ?? 0,
    failNextSend: req.fail_next_send ?? null,
    watchConflict: req.watch_conflict ?? false,
  };
}

/** The fault set as the control endpoint answers it (snake_case, like its request body). */
export function faultsToJson(f: FaultState): Record<string, unknown> {
  return {
    duplicate_pushes: f.duplicatePushes,
    drop_pushes: f.dropPushes,
    shuffle_pushes: f.shufflePushes,
    expire_history: f.expireHistory,
    rate_limit_next: f.rateLimitNext,
    fail_next_send: f.failNextSend,
    watch_conflict: f.watchConflict,
  };
}

/** Consumes one unit of rate_limit_next; true when this call must be answered 429. */
export function takeRateLimit(f: FaultState): boolean {
  if (f.rateLimitNext <= 0) return false;
  f.rateLimitNext -= 1;
  return true;
}

/** Consumes fail_next_send. */
export function takeSendFailure(f: FaultState): SendFailure | null {
  const failure = f.failNextSend;
  f.failNextSend = null;
  return failure;
}
