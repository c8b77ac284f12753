/**
 * Every machine code an error answer of the product can carry, with its HTTP status and meaning.
 * The OpenAPI document lists them (and, per route, the ones that route can answer); a test checks
 * that every code thrown under src/ (the sandbox aside) is listed here.
 */
export const ERROR_CODES = {
  validation_failed: { status: 400, description: 'A path parameter, query parameter or body field is invalid; `details` names each one (`path`, `message`).' },
  malformed_json: { status: 400, description: 'The request body is not valid JSON.' },
  invalid_cursor: { status: 400, description: 'The `cursor` query parameter is not one that this list gave out.' },
  bad_request: { status: 400, description: 'A request the server cannot read otherwise.' },
  oauth_callback_invalid: { status: 400, description: 'The sign-in callback lacks `code` or `state`.' },
  unauthenticated: { status: 401, description: 'No valid session (sign in first), or the session expired, or the account no longer exists.' },
  oauth_id_token_invalid: { status: 401, description: "Google's ID token was not accepted." },
  oauth_failed: { status: 401, description: 'Google sign-in failed.' },
  push_unauthenticated: { status: 401, description: 'The Pub/Sub push carries no OIDC token, or one that is not accepted.' },
  forbidden: { status: 403, description: 'Signed in, but not allowed (operators only).' },
  csrf_origin_missing: { status: 403, description: 'A cookie-authenticated state-changing request without an Origin (or Referer) header.' },
  csrf_origin_refused: { status: 403, description: 'A cookie-authenticated state-changing request from an origin that is not allowed.' },
  csrf_simple_request: { status: 403, description: 'A cookie-authenticated POST without a JSON content type or an X-Requested-With header.' },
  oauth_denied: { status: 403, description: 'Google sign-in was cancelled or refused.' },
  oauth_state_invalid: { status: 403, description: 'The sign-in state is missing or does not match; start again.' },
  not_found: { status: 404, description: 'No such route, or no such resource for this user (another user’s id answers exactly like a missing one).' },
  method_not_allowed: { status: 405, description: 'The route exists but not with this method; the `Allow` header lists the methods it takes.' },
  contact_exists: { status: 409, description: 'The user already has a live contact with this email (compared case-insensitively).' },
  contact_deleted: { status: 409, description: 'A deleted contact cannot be changed.' },
  email_taken: { status: 409, description: 'This email belongs to another Google account here.' },
  expectation_failed: { status: 417, description: 'The request has an `Expect` header other than `100-continue`.' },
  payload_too_large: { status: 413, description: 'The request body is larger than the route accepts.' },
  unsupported_media_type: { status: 415, description: 'The request body is not `application/json` in UTF-8, or carries a content encoding (gzip and others are refused).' },
  headers_too_large: { status: 431, description: 'The request line or headers are larger than the server reads (16 kB).' },
  rate_limited: { status: 429, description: 'Too many requests; retry after the number of seconds in `Retry-After`.' },
  internal_error: { status: 500, description: 'An unexpected failure; nothing internal is shown (the log has the request id).' },
  oauth_code_invalid: { status: 400, description: 'Google refused the sign-in code: it was used already (the same sign-in clicked twice), expired or is not valid. Sign in again.' },
  oauth_exchange_failed: { status: 502, description: 'The sign-in could not be completed with Google.' },
  oauth_no_refresh_token: { status: 502, description: 'Google gave no offline access; remove the app in the Google account and sign in again.' },
} as const satisfies Record<string, { status: number; description: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export const errorDetail = {
  type: 'object',
  properties: {
    path: { type: 'string', description: 'Where the problem is, e.g. `body.email`, `query.limit`, `params.id`.' },
    message: { type: 'string' },
  },
  required: ['message'],
} as const;

export const errorBody = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: {
        code: { type: 'string', enum: Object.keys(ERROR_CODES), description: 'Stable machine code; see the table in the description of this API.' },
        message: { type: 'string', description: 'Human-readable text; may change.' },
        details: { type: 'array', items: errorDetail },
      },
      required: ['code', 'message', 'details'],
      additionalProperties: false,
    },
  },
  required: ['error'],
  additionalProperties: false,
} as const;
