import { expect } from 'chai';
import { Redis } from 'ioredis';
import { HttpClient, signIn, uniqueEmail } from '../support/http-client';
import { startTestSystem, type TestSystem } from '../support/system';

interface Cookie {
  name: string;
  value: string;
  attributes: string[];
}

function cookiesOf(res: Response | { headers: Headers }): Cookie[] {
  return res.headers.getSetCookie().map((line) => {
    const [pair, ...attrs] = line.split(';').map((p) => p.trim());
    const eq = pair!.indexOf('=');
    return { name: pair!.slice(0, eq), value: pair!.slice(eq + 1), attributes: attrs.map((a) => a.toLowerCase()) };
  });
}

/** Follows the sandbox sign-in by hand with extra headers on every hop; returns the final session cookie header. */
async function signInWith(baseUrl: string, email: string, headers: Record<string, string>): Promise<{ cookies: Cookie[]; cookieHeader: string }> {
  const jar = new Map<string, string>();
  const all: Cookie[] = [];
  let url = `${baseUrl}/auth/google?login_hint=${encodeURIComponent(email)}`;
  for (let hop = 0; hop < 10; hop += 1) {
    const sameOrigin = url.startsWith(baseUrl);
    const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(url, { redirect: 'manual', headers: sameOrigin ? { ...headers, ...(cookie ? { cookie } : {}) } : {} });
    for (const c of cookiesOf(res)) {
      all.push(c);
      if (c.value) jar.set(c.name, c.value);
      else jar.delete(c.name);
    }
    const location = res.headers.get('location');
    if (res.status < 300 || res.status >= 400 || !location) break;
    url = new URL(location, url).toString();
  }
  return { cookies: all, cookieHeader: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') };
}

describe('security headers', () => {
  let system: TestSystem;
  before(async () => {
    system = await startTestSystem({ worker: false });
  });
  after(async () => {
    await system.close();
  });

  for (const path of ['/openapi.json', '/api/me', '/api/contacts/not-a-uuid', '/no/such/route']) {
    it(`sets HSTS, nosniff, no-referrer, no framing and a deny-all CSP on ${path}`, async () => {
      const res = await fetch(`${system.baseUrl}${path}`);
      expect(res.headers.get('strict-transport-security')).to.match(/max-age=\d+/);
      expect(res.headers.get('x-content-type-options')).to.equal('nosniff');
      expect(res.headers.get('referrer-policy')).to.equal('no-referrer');
      expect(res.headers.get('x-frame-options')).to.equal('DENY');
      expect(res.headers.get('content-security-policy')).to.contain("default-src 'none'");
      expect(res.headers.get('content-security-policy')).to.contain("frame-ancestors 'none'");
      expect(res.headers.get('x-powered-by')).to.equal(null);
    });
  }

  it('gives HTML pages a policy that allows our origin only and forbids framing', async () => {
    const res = await fetch(`${system.baseUrl}/sandbox/oauth2/auth?client_id=x`);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).to.contain("frame-ancestors 'none'");
    expect(csp).to.not.match(/https?:\/\//);
  });

  it('tells caches to keep no answer of the signed-in API, errors included, and leaves public documents cacheable', async () => {
    const client = await signIn(system.baseUrl, uniqueEmail('cache'));
    for (const path of ['/api/me', '/api/contacts', '/api/contacts/not-a-uuid', '/api/nowhere']) {
      expect((await client.get(path)).headers.get('cache-control'), path).to.equal('no-store');
    }
    expect((await fetch(`${system.baseUrl}/api/me`)).headers.get('cache-control'), 'anonymous 401').to.equal('no-store');
    expect((await fetch(`${system.baseUrl}/openapi.json`)).headers.get('cache-control') ?? '').to.not.contain('no-store');
  });

  it('answers an error without a stack trace or an internal message', async () => {
    const res = await fetch(`${system.baseUrl}/api/contacts`, { method: 'POST', headers: { 'content-type': 'application/json', origin: system.baseUrl }, body: '{"email":' });
    const text = await res.text();
    expect(text).to.not.match(/\bat [\w.<>]+ \(|node_modules|\.ts:\d+/);
  });
});

describe('session cookies', () => {
  let system: TestSystem;
  let proxied: TestSystem;
  let redis: Redis;

  before(async () => {
    system = await startTestSystem({ worker: false, overrides: { SESSION_IDLE_MINUTES: '1', SESSION_ABSOLUTE_HOURS: '1' } });
    proxied = await startTestSystem({ worker: false, overrides: { TRUST_PROXY: 'true' } });
    redis = new Redis(system.container.config.redisUrl);
  });
  after(async () => {
    redis.disconnect();
    await system.close();
    await proxied.close();
  });

  it('over plain HTTP sets a sid cookie that is HttpOnly, SameSite=Lax and holds only a signed random id', async () => {
    const { cookies } = await signInWith(system.baseUrl, uniqueEmail('plain'), {});
    const sid = cookies.filter((c) => c.name === 'sid' && c.value).at(-1)!;
    expect(sid.attributes).to.include('httponly');
    expect(sid.attributes).to.include('samesite=lax');
    expect(sid.attributes).to.include('path=/');
    expect(sid.attributes).to.not.include('secure');
    expect(sid.value).to.match(/^[A-Za-z0-9_-]{32}$/);
    expect(cookies.some((c) => c.name === 'sid.sig' && c.value)).to.equal(true);
  });

  it('behind a trusted TLS proxy sets a Secure __Host- cookie', async () => {
    const { cookies } = await signInWith(proxied.baseUrl, uniqueEmail('tls'), { 'x-forwarded-proto': 'https' });
    const sid = cookies.filter((c) => c.name === '__Host-sid' && c.value).at(-1)!;
    expect(sid, 'a __Host-sid cookie').to.not.equal(undefined);
    expect(sid.attributes).to.include('secure');
    expect(sid.attributes).to.include('httponly');
    expect(sid.attributes).to.include('path=/');
    expect(sid.attributes.some((a) => a.startsWith('domain='))).to.equal(false);
  });

  it('signs in over TLS and then serves the session over TLS only', async () => {
    const { cookieHeader } = await signInWith(proxied.baseUrl, uniqueEmail('tls-me'), { 'x-forwarded-proto': 'https' });
    expect((await fetch(`${proxied.baseUrl}/api/me`, { headers: { cookie: cookieHeader, 'x-forwarded-proto': 'https' } })).status).to.equal(200);
    // The same cookie over plain HTTP is not the session (a __Host- cookie is never sent there by a browser).
    expect((await fetch(`${proxied.baseUrl}/api/me`, { headers: { cookie: cookieHeader } })).status).to.equal(401);
  });

  it('ignores X-Forwarded-Proto unless configured to sit behind a proxy, and never answers 500 for it', async () => {
    const { cookies } = await signInWith(system.baseUrl, uniqueEmail('spoof'), { 'x-forwarded-proto': 'https' });
    expect(cookies.some((c) => c.name === '__Host-sid')).to.equal(false);
    expect(cookies.some((c) => c.name === 'sid' && c.value)).to.equal(true);
  });

  it('serves a plain-HTTP request to a TLS deployment without an error', async () => {
    const res = await fetch(`${proxied.baseUrl}/auth/google?login_hint=${encodeURIComponent(uniqueEmail('mixed'))}`, { redirect: 'manual' });
    expect(res.status).to.equal(302);
  });

  it('keeps the session in Redis, not in the cookie', async () => {
    const client = await signIn(system.baseUrl, uniqueEmail('server-side'));
    const sid = /(?:^|; )sid=([^;]+)/.exec(client.cookieHeader())![1]!;
    const stored = await redis.get(`${system.container.config.redisPrefix}:sess:${sid}`);
    expect(stored).to.be.a('string');
    expect(JSON.parse(stored!)).to.have.property('uid');
  });

  it('gives a new session id at sign-in (no fixation)', async () => {
    const email = uniqueEmail('fixation');
    const client = new HttpClient(system.baseUrl);
    await client.get(`/auth/google?login_hint=${encodeURIComponent(email)}`);
    const before = /(?:^|; )sid=([^;]+)/.exec(client.cookieHeader())?.[1];
    expect(before, 'a pre-sign-in session holds the OAuth state').to.be.a('string');
    await client.follow(`/auth/google?login_hint=${encodeURIComponent(email)}`);
    const after = /(?:^|; )sid=([^;]+)/.exec(client.cookieHeader())![1];
    expect(after).to.not.equal(before);
    expect(await redis.get(`${system.container.config.redisPrefix}:sess:${before}`)).to.equal(null);
  });

  it('ends a session that stayed unused past the idle timeout', async () => {
    const client = await signIn(system.baseUrl, uniqueEmail('idle'));
    const sid = /(?:^|; )sid=([^;]+)/.exec(client.cookieHeader())![1]!;
    const ttl = await redis.pttl(`${system.container.config.redisPrefix}:sess:${sid}`);
    expect(ttl).to.be.greaterThan(0).and.at.most(60_000 + 10_000);
    await redis.del(`${system.container.config.redisPrefix}:sess:${sid}`); // what the expiry does
    expect((await client.get('/api/me')).status).to.equal(401);
  });

  it('ends a session past its absolute lifetime even while it is used', async () => {
    const client = await signIn(system.baseUrl, uniqueEmail('absolute'));
    const sid = /(?:^|; )sid=([^;]+)/.exec(client.cookieHeader())![1]!;
    const key = `${system.container.config.redisPrefix}:sess:${sid}`;
    const data = JSON.parse((await redis.get(key))!) as Record<string, unknown>;
    data.signed_in_at = Date.now() - 3600_000 - 1000;
    await redis.set(key, JSON.stringify(data), 'PX', 60_000);
    const res = await client.get<{ error: { code: string; message: string } }>('/api/me');
    expect(res.status).to.equal(401);
    expect(res.body.error.message).to.contain('expired');
  });

  it('destroys the session in Redis at sign-out', async () => {
    const client = await signIn(system.baseUrl, uniqueEmail('signout'));
    const sid = /(?:^|; )sid=([^;]+)/.exec(client.cookieHeader())![1]!;
    expect((await client.post('/auth/logout')).status).to.equal(204);
    expect(await redis.get(`${system.container.config.redisPrefix}:sess:${sid}`)).to.equal(null);
  });

  it('refuses a forged or tampered cookie', async () => {
    const client = await signIn(system.baseUrl, uniqueEmail('tamper'));
    const forged = client.cookieHeader().replace(/(^|; )sid=([^;]+)/, '$1sid=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
    expect((await fetch(`${system.baseUrl}/api/me`, { headers: { cookie: forged } })).status).to.equal(401);
    const unsigned = client.cookieHeader().replace(/(^|; )sid\.sig=[^;]+/, '');
    expect((await fetch(`${system.baseUrl}/api/me`, { headers: { cookie: unsigned } })).status).to.equal(401);
  });
});
