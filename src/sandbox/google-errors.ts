import type Koa from 'koa';

/**
 * Error bodies in the shapes the real services answer with, so that client libraries turn them
 * into the same exceptions they raise in production (gaxios' GaxiosError, openai's APIError, ...).
 */

export interface GoogleErrorItem {
  message: string;
  domain: string;
  reason: string;
  location?: string;
  locationType?: string;
}

/** A Google API error (`{error: {code, message, errors, status}}`). */
export class GoogleApiError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly status: string,
    readonly errors: GoogleErrorItem[],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  body(): Record<string, unknown> {
    return { error: { code: this.code, message: this.message, errors: this.errors, status: this.status } };
  }
}

export const gmailErrors = {
  unauthenticated: () =>
    new GoogleApiError(
      401,
      'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
      'UNAUTHENTICATED',
      [{ message: 'Invalid Credentials', domain: 'global', reason: 'authError', location: 'Authorization', locationType: 'header' }],
      { 'WWW-Authenticate': 'Bearer realm="https://accounts.google.com/", error="invalid_token"' },
    ),
  insufficientScope: () =>
    new GoogleApiError(403, 'Request had insufficient authentication scopes.', 'PERMISSION_DENIED', [
      { message: 'Insufficient Permission', domain: 'global', reason: 'insufficientPermissions' },
    ], { 'WWW-Authenticate': 'Bearer realm="https://accounts.google.com/", error="insufficient_scope"' }),
  forbidden: (message: string) =>
    new GoogleApiError(403, message, 'PERMISSION_DENIED', [{ message, domain: 'global', reason: 'forbidden' }]),
  invalidArgument: (message: string) =>
    new GoogleApiError(400, message, 'INVALID_ARGUMENT', [{ message, domain: 'global', reason: 'invalidArgument' }]),
  failedPrecondition: (message: string) =>
    new GoogleApiError(400, message, 'FAILED_PRECONDITION', [{ message, domain: 'global', reason: 'failedPrecondition' }]),
  notFound: () =>
    new GoogleApiError(404, 'Requested entity was not found.', 'NOT_FOUND', [
      { message: 'Requested entity was not found.', domain: 'global', reason: 'notFound' },
    ]),
  rateLimited: (retryAt: Date, retryAfterSeconds: number) => {
    const message = `User-rate limit exceeded.  Retry after ${retryAt.toISOString()}`;
    return new GoogleApiError(429, message, 'RESOURCE_EXHAUSTED', [{ message, domain: 'usageLimits', reason: 'rateLimitExceeded' }], {
      'Retry-After': String(retryAfterSeconds),
    });
  },
  backendError: () =>
    new GoogleApiError(500, 'Internal error encountered.', 'INTERNAL', [
      { message: 'Internal error encountered.', domain: 'global', reason: 'backendError' },
    ]),
};

export function sendGoogleError(ctx: Koa.Context, err: GoogleApiError): void {
  ctx.status = err.code;
  for (const [name, value] of Object.entries(err.headers)) ctx.set(name, value);
  ctx.set('Vary', 'Origin, X-Origin, Referer');
  ctx.body = err.body();
}

/** OAuth 2.0 token-endpoint error: `{error, error_description}`. */
export function sendOAuthError(ctx: Koa.Context, status: number, error: string, description: string): void {
  ctx.status = status;
  ctx.set('Cache-Control', 'no-cache, no-store, max-age=0, must-revalidate');
  ctx.set('Pragma', 'no-cache');
  ctx.body = { error, error_description: description };
}

/** OpenAI error: `{error: {message, type, param, code}}`. */
export function sendOpenAiError(ctx: Koa.Context, status: number, message: string, type: string, code: string | null, param: string | null = null): void {
  ctx.status = status;
  ctx.body = { error: { message, type, param, code } };
}

export interface ErrorDetail {
  path: string;
  message: string;
}

/** The product's own error shape (SPEC "HTTP contract"), used by the control endpoints. */
export function sendControlError(ctx: Koa.Context, status: number, code: string, message: string, details: ErrorDetail[] = []): void {
  ctx.status = status;
  ctx.body = { error: { code, message, details } };
}
