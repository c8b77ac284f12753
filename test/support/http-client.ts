import { documentMismatch } from './openapi-conformance';

/**
 * A plain HTTP client with a cookie jar, following redirects by hand so tests see each hop.
 * It speaks HTTP to the running system, and checks every answer against the OpenAPI document.
 */
export interface HttpResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export class HttpClient {
  private readonly cookies = new Map<string, string>();

  constructor(readonly baseUrl: string) {}

  cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  hasCookie(name: string): boolean {
    return this.cookies.has(name);
  }

  private remember(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const expired = attrs.some((a) => /^\s*expires=Thu, 01 Jan 1970/i.test(a)) || value === '';
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  async request<T = unknown>(method: string, path: string, opts: { json?: unknown; body?: string; headers?: Record<string, string> } = {}): Promise<HttpResponse<T>> {
    const url = path.startsWith('http') ? path : `${this.baseUrl}${path}`;
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    const sameOrigin = new URL(url).origin === new URL(this.baseUrl).origin;
    if (sameOrigin && this.cookies.size) headers.cookie = this.cookieHeader();
    let body: string | undefined = opts.body;
    if (opts.json !== undefined) {
      body = JSON.stringify(opts.json);
      headers['content-type'] ??= 'application/json';
    }
    // As a browser frontend on our origin does: Origin on every state-changing request, and
    // X-Requested-With when there is no JSON body (the CSRF check asks for one or the other).
    if (sameOrigin && !['GET', 'HEAD', 'OPTIONS'].includes(method)) {
      headers.origin ??= this.baseUrl;
      if (body === undefined) headers['x-requested-with'] ??= 'fetch';
    }
    const res = await fetch(url, { method, headers, body, redirect: 'manual' });
    if (sameOrigin) this.remember(res);
    const text = await res.text();
    let parsed: unknown = text;
    if ((res.headers.get('content-type') ?? '').includes('json') && text) parsed = JSON.parse(text);
    if (sameOrigin) {
      // Every answer of the product that a test sees must be what the OpenAPI document says.
      const mismatch = documentMismatch({ method, url: new URL(url), status: res.status, contentType: res.headers.get('content-type') ?? '', body: parsed });
      if (mismatch) throw new Error(`OpenAPI document: ${mismatch}`);
    }
    return { status: res.status, headers: res.headers, body: parsed as T, text };
  }

  get<T = unknown>(path: string, headers?: Record<string, string>) {
    return this.request<T>('GET', path, { headers });
  }
  post<T = unknown>(path: string, json?: unknown) {
    return this.request<T>('POST', path, json === undefined ? {} : { json });
  }
  patch<T = unknown>(path: string, json: unknown) {
    return this.request<T>('PATCH', path, { json });
  }
  delete<T = unknown>(path: string) {
    return this.request<T>('DELETE', path);
  }

  /** Follows a chain of redirects from `path`; returns every hop. */
  async follow(path: string, maxHops = 10): Promise<HttpResponse[]> {
    const hops: HttpResponse[] = [];
    let next: string | null = path;
    while (next && hops.length < maxHops) {
      const res: HttpResponse = await this.get(next);
      hops.push(res);
      const location = res.status >= 300 && res.status < 400 ? res.headers.get('location') : null;
      next = location ? new URL(location, next.startsWith('http') ? next : this.baseUrl + next).toString() : null;
    }
    return hops;
  }
}

/** Signs in through the sandbox by following GET /auth/google?login_hint=… through its redirects. */
export async function signIn(baseUrl: string, email: string): Promise<HttpClient> {
  const client = new HttpClient(baseUrl);
  const hops = await client.follow(`/auth/google?login_hint=${encodeURIComponent(email)}`);
  const last = hops[hops.length - 1]!;
  if (last.status !== 200 && !(last.status >= 300 && last.status < 400)) {
    throw new Error(`sign-in for ${email} ended with ${last.status}: ${last.text.slice(0, 200)}`);
  }
  return client;
}

let counter = 0;
/** A fresh address per test, so tests sharing the run's database never collide. */
export function uniqueEmail(local = 'user'): string {
  counter += 1;
  return `${local}.${process.pid}.${Date.now().toString(36)}.${counter}@example.com`;
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 15000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}
