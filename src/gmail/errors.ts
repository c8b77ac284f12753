/**
 * How the product reads failures of Google's APIs (gaxios errors from googleapis and
 * google-auth-library), and the errors it raises itself about a user's Gmail.
 */

/** The user's Gmail cannot be used until they sign in again (no grant stored, or Google revoked it). */
export class GmailNotConnectedError extends Error {
  constructor(
    readonly userId: string,
    readonly reason: 'no_grant' | 'needs_reconsent',
  ) {
    super(reason === 'no_grant' ? `user ${userId} has no Gmail grant` : `user ${userId} must grant Gmail access again`);
  }
}

/** Gmail asked us to wait longer than a job should sleep; the job is put back until `retryAt`. */
export class GmailRateLimitedError extends Error {
  constructor(readonly retryAt: Date) {
    super(`Gmail rate limit: retry after ${retryAt.toISOString()}`);
  }
}

interface GoogleishError {
  status?: number;
  code?: number | string;
  message?: string;
  response?: {
    status?: number;
    headers?: Headers | Record<string, string | string[] | undefined>;
    data?: unknown;
  };
}

export function httpStatusOf(err: unknown): number | undefined {
  const e = err as GoogleishError | null;
  if (!e || typeof e !== 'object') return undefined;
  return e.response?.status ?? e.status ?? (typeof e.code === 'number' ? e.code : undefined);
}

function errorReasons(err: unknown): string[] {
  const data = (err as GoogleishError | null)?.response?.data as { error?: { errors?: Array<{ reason?: unknown }> } } | undefined;
  return (data?.error?.errors ?? []).map((e) => String(e.reason ?? ''));
}

const RATE_LIMIT_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded']);

/** 429, or a 403 whose reason says rate limit (Gmail answers both). */
export function isRateLimited(err: unknown): boolean {
  const status = httpStatusOf(err);
  if (status === 429) return true;
  return status === 403 && errorReasons(err).some((r) => RATE_LIMIT_REASONS.has(r));
}

export function isServerError(err: unknown): boolean {
  const status = httpStatusOf(err);
  return status !== undefined && status >= 500 && status <= 599;
}

/** No HTTP answer at all (connection refused or reset, timeout). */
export function isNetworkError(err: unknown): boolean {
  const e = err as GoogleishError | null;
  if (!e || typeof e !== 'object' || e.response) return false;
  return typeof e.code === 'string' && /^(E[A-Z]+|TimeoutError|UND_ERR_[A-Z_]+)$/.test(e.code);
}

function header(err: unknown, name: string): string | undefined {
  const headers = (err as GoogleishError | null)?.response?.headers;
  if (!headers) return undefined;
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const value = (headers as Record<string, string | string[] | undefined>)[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * How long Gmail asked us to wait, in ms: the Retry-After header (seconds or an HTTP date), else
 * the "Retry after <ISO date>" that Gmail puts in rate-limit messages.
 */
export function retryAfterMs(err: unknown, now: number): number | undefined {
  const value = header(err, 'retry-after');
  if (value) {
    if (/^\d+$/.test(value.trim())) return Number(value) * 1000;
    const at = Date.parse(value);
    if (Number.isFinite(at)) return Math.max(0, at - now);
  }
  const message = (err as GoogleishError | null)?.message ?? '';
  const match = /Retry after (\d{4}-\d\d-\d\dT[0-9:.]+Z)/.exec(message);
  if (match) {
    const at = Date.parse(match[1]!);
    if (Number.isFinite(at)) return Math.max(0, at - now);
  }
  return undefined;
}

/** The token endpoint refused the refresh token for good (revoked, expired, password changed). */
export function isInvalidGrant(err: unknown): boolean {
  const data = (err as GoogleishError | null)?.response?.data as { error?: unknown } | undefined;
  return data?.error === 'invalid_grant';
}
