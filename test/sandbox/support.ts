import { OAuth2Client, CodeChallengeMethod, type Credentials } from 'google-auth-library';
import { gmail, type gmail_v1 } from 'googleapis/build/src/apis/gmail';
import type { TestSystem } from '../support/system';

/**
 * Helpers for the sandbox tests: an OAuth grant obtained from the sandbox OAuth server with
 * google-auth-library (as production does), the Gmail client built the way src/gmail/client.ts
 * builds it, and the sandbox control endpoints.
 */

/** Scopes the product asks for (src/http/auth/google-strategy.ts), as Google names them. */
export const PRODUCT_SCOPES = [
  'openid',
  'email',
  'profile',
  'https://www.googleapis.com/auth/gmail.readonly',
  'https://www.googleapis.com/auth/gmail.send',
];

export function redirectUri(system: TestSystem): string {
  return `${system.container.config.publicUrl}/auth/google/callback`;
}

/** An OAuth2Client pointed at the sandbox, like src/gmail/oauth-client.ts builds it. */
export function oauthClient(system: TestSystem): OAuth2Client {
  const g = system.container.config.google;
  const base = `${system.baseUrl}/sandbox/oauth2`;
  const client = new OAuth2Client({
    clientId: g.clientId,
    clientSecret: g.clientSecret,
    redirectUri: redirectUri(system),
    endpoints: {
      oauth2AuthBaseUrl: `${base}/auth`,
      oauth2TokenUrl: `${base}/token`,
      oauth2RevokeUrl: `${base}/revoke`,
      oauth2FederatedSignonPemCertsUrl: `${base}/v1/certs`,
      oauth2FederatedSignonJwkCertsUrl: `${base}/v3/certs`,
    },
  });
  // Every request of this client (and of the Gmail client built on it) must stay on loopback.
  client.transporter.interceptors.request.add({
    resolved: async (config) => {
      const host = new URL(String(config.url)).hostname;
      if (host !== '127.0.0.1') throw new Error(`a sandbox test tried to reach ${host}`);
      return config;
    },
  });
  return client;
}

export interface AuthorizeOptions {
  scopes?: string[];
  prompt?: string;
  accessType?: 'online' | 'offline';
  /** PKCE with S256 (default true). */
  pkce?: boolean;
  state?: string;
}

export interface Authorization {
  code: string;
  codeVerifier?: string;
  location: URL;
}

/** Runs the authorization request (login_hint auto-approves) and takes the code from the redirect. */
export async function authorize(system: TestSystem, client: OAuth2Client, email: string, opts: AuthorizeOptions = {}): Promise<Authorization> {
  let codeVerifier: string | undefined;
  let challenge: { code_challenge?: string; code_challenge_method?: CodeChallengeMethod } = {};
  if (opts.pkce ?? true) {
    const v = await client.generateCodeVerifierAsync();
    codeVerifier = v.codeVerifier;
    challenge = { code_challenge: v.codeChallenge, code_challenge_method: CodeChallengeMethod.S256 };
  }
  const url = client.generateAuthUrl({
    access_type: opts.accessType ?? 'offline',
    scope: opts.scopes ?? PRODUCT_SCOPES,
    login_hint: email,
    prompt: opts.prompt,
    state: opts.state,
    ...challenge,
  });
  if (!url.startsWith(`${system.baseUrl}/sandbox/oauth2/auth?`)) throw new Error(`unexpected auth URL ${url}`);
  const res = await fetch(url, { redirect: 'manual' });
  if (res.status !== 302) throw new Error(`authorization answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
  const location = new URL(res.headers.get('location') ?? '');
  const code = location.searchParams.get('code');
  if (!code) throw new Error(`no code in ${location.toString()}`);
  return { code, codeVerifier, location };
}

export interface Grant {
  auth: OAuth2Client;
  tokens: Credentials;
  gmail: gmail_v1.Gmail;
}

/** A full grant for `email`: authorization, code exchange, credentials set, Gmail client built. */
export async function grant(system: TestSystem, email: string, opts: AuthorizeOptions = {}): Promise<Grant> {
  const auth = oauthClient(system);
  const { code, codeVerifier } = await authorize(system, auth, email, opts);
  const { tokens } = await auth.getToken({ code, codeVerifier });
  auth.setCredentials(tokens);
  return { auth, tokens, gmail: gmailClient(system, auth) };
}

/** Exactly as src/gmail/client.ts builds it. */
export function gmailClient(system: TestSystem, auth: OAuth2Client): gmail_v1.Gmail {
  return gmail({ version: 'v1', auth, rootUrl: system.container.config.google.gmailRootUrl });
}

export interface JsonResponse<T> {
  status: number;
  body: T;
}

async function json<T>(res: Response): Promise<JsonResponse<T>> {
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
}

export function mailboxUrl(system: TestSystem, email: string, what: string): string {
  return `${system.baseUrl}/sandbox/gmail/mailboxes/${encodeURIComponent(email)}/${what}`;
}

export interface Delivered {
  id: string;
  thread_id: string;
  message_id: string;
}

export async function controlPost<T>(system: TestSystem, email: string, what: string, body: unknown): Promise<JsonResponse<T>> {
  const res = await fetch(mailboxUrl(system, email, what), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return json<T>(res);
}

export async function deliver(system: TestSystem, email: string, body: Record<string, unknown>): Promise<Delivered> {
  const res = await controlPost<Delivered>(system, email, 'incoming', body);
  if (res.status !== 201) throw new Error(`incoming answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}

export async function setFaults(system: TestSystem, email: string, faults: Record<string, unknown>): Promise<Record<string, unknown>> {
  const res = await controlPost<Record<string, unknown>>(system, email, 'faults', faults);
  if (res.status !== 200) throw new Error(`faults answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}

export interface SentItem {
  id: string;
  thread_id: string;
  raw: string;
  headers: Record<string, string>;
}

export async function sentItems(system: TestSystem, email: string): Promise<SentItem[]> {
  const res = await fetch(mailboxUrl(system, email, 'sent'));
  const body = (await json<{ items: SentItem[] }>(res)).body;
  return body.items;
}

/** The HTTP status of a rejected googleapis / gaxios call (undefined when it did not fail). */
export async function statusOf(call: Promise<unknown>): Promise<{ status: number | undefined; data: unknown; headers: Record<string, string> }> {
  try {
    await call;
  } catch (err) {
    const e = err as { status?: number; response?: { status?: number; data?: unknown; headers?: Headers | Record<string, string> } };
    const rawHeaders = e.response?.headers;
    const headers: Record<string, string> = {};
    // gaxios answers a fetch Headers (node-fetch's or the global one) or a plain object
    if (rawHeaders && typeof (rawHeaders as Headers).forEach === 'function' && typeof (rawHeaders as Headers).get === 'function') {
      (rawHeaders as Headers).forEach((v, k) => (headers[k.toLowerCase()] = v));
    } else if (rawHeaders) {
      for (const [k, v] of Object.entries(rawHeaders)) headers[k.toLowerCase()] = String(v);
    }
    return { status: e.response?.status ?? e.status, data: e.response?.data, headers };
  }
  return { status: undefined, data: undefined, headers: {} };
}

/** base64url of an RFC 822 message built from header lines and a text body. */
export function rfc822(headers: Record<string, string>, body: string): string {
  const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}`);
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body}`).toString('base64url');
}

export function header(payload: gmail_v1.Schema$MessagePart | undefined, name: string): string | undefined {
  return payload?.headers?.find((h) => h.name?.toLowerCase() === name.toLowerCase())?.value ?? undefined;
}

let counter = 0;
/** A fresh sandbox mailbox address per test. */
export function freshEmail(local = 'sbx'): string {
  counter += 1;
  return `${local}.${process.pid}.${Date.now().toString(36)}.${counter}@example.com`;
}
