import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import { GmailRateLimitedError, httpStatusOf, isNetworkError, isRateLimited, isServerError, retryAfterMs } from './errors';
import { GMAIL_QUOTA_UNITS, type GmailMethod } from './quota-units';

export interface GmailCallPolicy {
  /** Retries after the first attempt. */
  maxRetries: number;
  /** First backoff step; each retry doubles it (full jitter). */
  baseDelayMs?: number;
  /** A wait longer than this is not slept in the job: the job is put back until then instead. */
  maxInlineWaitMs?: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  now?: () => number;
}

export interface CallOptions {
  /**
   * Whether repeating the call after an ambiguous failure (5xx, no answer) is harmless. False for
   * messages.send: a 5xx may come after the mail went out, so only a run that first looks for the
   * mail in Gmail may send again (src/services/replies.ts).
   */
  idempotent: boolean;
}

export type GmailCaller = <T>(method: GmailMethod, request: () => Promise<T>, opts: CallOptions) => Promise<T>;

type Outcome = 'ok' | 'rate_limited' | 'server_error' | 'network_error' | 'not_found' | 'client_error';

function outcomeOf(err: unknown): Outcome {
  if (isRateLimited(err)) return 'rate_limited';
  if (isServerError(err)) return 'server_error';
  if (isNetworkError(err)) return 'network_error';
  return httpStatusOf(err) === 404 ? 'not_found' : 'client_error';
}

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs every Gmail call of the product: counts calls and quota units per method, and retries
 * 429 and rate-limit 403 answers (honouring Retry-After, plus jitter so that many workers do not
 * come back at the same instant) and, for idempotent calls, 5xx answers and lost connections with
 * exponential backoff. A rate limit that outlasts the retries or asks for a long wait becomes a
 * GmailRateLimitedError, which puts the job back until Gmail's time instead of failing it.
 */
export function createGmailCaller(policy: GmailCallPolicy, metrics: Metrics, logger: Logger): GmailCaller {
  const base = policy.baseDelayMs ?? 500;
  const maxInline = policy.maxInlineWaitMs ?? 10_000;
  const sleep = policy.sleep ?? sleepFor;
  const random = policy.random ?? Math.random;
  const now = policy.now ?? Date.now;

  const backoff = (attempt: number) => {
    const ceiling = base * 2 ** attempt;
    return Math.round(ceiling / 2 + random() * (ceiling / 2));
  };

  return async (method, request, opts) => {
    for (let attempt = 0; ; attempt += 1) {
      try {
        const result = await request();
        metrics.gmailCalls.inc({ method, outcome: 'ok' });
        metrics.gmailQuotaUnits.inc({ method }, GMAIL_QUOTA_UNITS[method]);
        return result;
      } catch (err) {
        const outcome = outcomeOf(err);
        metrics.gmailCalls.inc({ method, outcome });
        // Calls refused for rate or never answered are not charged; anything Gmail processed is.
        if (outcome !== 'rate_limited' && outcome !== 'network_error') metrics.gmailQuotaUnits.inc({ method }, GMAIL_QUOTA_UNITS[method]);

        const retriable = outcome === 'rate_limited' || ((outcome === 'server_error' || outcome === 'network_error') && opts.idempotent);
        if (!retriable) throw err;
        const asked = outcome === 'rate_limited' ? retryAfterMs(err, now()) : undefined;
        const wait = asked !== undefined ? asked + Math.round(random() * 1000) : backoff(attempt);
        if (outcome === 'rate_limited' && (attempt >= policy.maxRetries || wait > maxInline)) {
          logger.warn({ method, waitMs: wait }, 'gmail rate limit: job put back');
          throw new GmailRateLimitedError(new Date(now() + Math.max(wait, backoff(attempt))));
        }
        if (attempt >= policy.maxRetries) throw err;
        metrics.gmailRetries.inc({ method });
        logger.info({ method, outcome, attempt: attempt + 1, waitMs: wait }, 'gmail call retried');
        await sleep(Math.min(wait, maxInline));
      }
    }
  };
}
