/**
 * What an error report may never carry: tokens, addresses, message content. Error tracking sends
 * errors to a third party, so every string of an event goes through `scrubText`, and the parts of
 * an event that hold request data are dropped whole (see `scrubEvent`).
 */

const PATTERNS: Array<[RegExp, string]> = [
  // JWTs (OIDC ID tokens, Pub/Sub push tokens): three base64url parts.
  [/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, '[token]'],
  // Authorization header values, and key=value secrets in URLs or messages.
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, '$1 [token]'],
  [/\b(access_token|refresh_token|id_token|token|code|client_secret|api_key|apikey|key|password|state)=([^&\s"']+)/gi, '$1=[redacted]'],
  // Google OAuth tokens (access ya29., refresh 1//), OpenAI-style keys.
  [/\bya29\.[A-Za-z0-9._-]+/g, '[token]'],
  [/\b1\/\/[A-Za-z0-9._-]{10,}/g, '[token]'],
  [/\bsk-[A-Za-z0-9_-]{10,}/g, '[token]'],
  // Email addresses, with or without a display name.
  [/[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+/g, '[email]'],
  // Long opaque runs (keys, ciphertext, base64 bodies).
  [/[A-Za-z0-9+/_-]{40,}={0,2}/g, '[redacted]'],
];

/** Longest text kept from one field: a message body pasted into an error stops here. */
const MAX_TEXT = 500;

export function scrubText(text: string): string {
  let out = text;
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  return out.length > MAX_TEXT ? `${out.slice(0, MAX_TEXT)}…` : out;
}

/** Stack-frame fields: code locations, never data (scrubbing them would break grouping). */
const CODE_LOCATION_KEYS = new Set(['filename', 'abs_path', 'module', 'function']);

function scrubDeep(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return scrubText(value);
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => scrubDeep(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = CODE_LOCATION_KEYS.has(k) ? v : scrubDeep(v, depth + 1);
  return out;
}

interface EventLike {
  request?: Record<string, unknown>;
  user?: Record<string, unknown>;
  breadcrumbs?: unknown[];
  tags?: Record<string, unknown>;
  exception?: { values?: Array<{ stacktrace?: { frames?: Array<Record<string, unknown>> } }> };
  [key: string]: unknown;
}

/**
 * Sentry's beforeSend: drops request bodies, cookies, headers and query strings, user details
 * other than an id, breadcrumbs and stack-frame variables; scrubs every remaining string.
 */
export function scrubEvent<E extends EventLike>(event: E): E {
  if (event.request) event.request = { method: event.request.method, url: typeof event.request.url === 'string' ? event.request.url.split('?')[0] : undefined };
  if (event.user) event.user = typeof event.user.id === 'string' ? { id: event.user.id } : {};
  delete event.breadcrumbs;
  for (const value of event.exception?.values ?? []) {
    for (const frame of value.stacktrace?.frames ?? []) delete frame.vars;
  }
  // Tags are ours (ids, route patterns, queue names), set by the reporter: kept as they are.
  const { tags } = event;
  const scrubbed = scrubDeep(event, 0) as E;
  if (tags !== undefined) scrubbed.tags = tags;
  return scrubbed;
}
