/** A signed-in browser, as far as the bench needs one: a cookie jar over fetch. */
export class HttpSession {
  private readonly cookies = new Map<string, string>();

  constructor(readonly baseUrl: string) {}

  cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async request<T = unknown>(method: string, path: string, json?: unknown): Promise<{ status: number; body: T; location: string | null }> {
    const url = new URL(path, this.baseUrl);
    const headers: Record<string, string> = {};
    const sameOrigin = url.origin === new URL(this.baseUrl).origin;
    if (sameOrigin && this.cookies.size) headers.cookie = this.cookieHeader();
    if (method !== 'GET') headers.origin = new URL(this.baseUrl).origin;
    if (json !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(url, { method, headers, body: json === undefined ? undefined : JSON.stringify(json), redirect: 'manual' });
    if (sameOrigin) {
      for (const line of res.headers.getSetCookie()) {
        const pair = line.split(';')[0]!;
        const eq = pair.indexOf('=');
        const value = pair.slice(eq + 1).trim();
        if (value) this.cookies.set(pair.slice(0, eq).trim(), value);
        else this.cookies.delete(pair.slice(0, eq).trim());
      }
    }
    const text = await res.text();
    const body = (res.headers.get('content-type') ?? '').includes('json') && text ? (JSON.parse(text) as T) : (text as T);
    return { status: res.status, body, location: res.headers.get('location') };
  }

  /** Signs in through the sandbox: GET /auth/google?login_hint=… followed through its redirects. */
  static async signIn(baseUrl: string, email: string): Promise<HttpSession> {
    const session = new HttpSession(baseUrl);
    let next: string | null = `/auth/google?login_hint=${encodeURIComponent(email)}`;
    for (let hop = 0; next && hop < 10; hop += 1) {
      const res: { status: number; location: string | null; body: unknown } = await session.request('GET', next);
      if (res.status >= 400) throw new Error(`sign-in of ${email} answered ${res.status}: ${JSON.stringify(res.body).slice(0, 200)}`);
      next = res.status >= 300 && res.location ? new URL(res.location, new URL(next, baseUrl)).toString() : null;
    }
    const me = await session.request<{ id?: string }>('GET', '/api/me');
    if (me.status !== 200 || !me.body.id) throw new Error(`sign-in of ${email} gave no session (GET /api/me answered ${me.status})`);
    return session;
  }
}
