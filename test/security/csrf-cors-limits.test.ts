import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { signIn, uniqueEmail, type HttpClient } from '../support/http-client';
import { startTestSystem, type TestSystem } from '../support/system';

interface ErrorBody {
  error: { code: string; message: string };
}

/** A stand-in for the frontend: another origin on loopback, where sign-in lands. */
async function frontendServer(): Promise<{ origin: string; close(): Promise<void> }> {
  const server = http.createServer((_req, res) => res.end('frontend'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { origin, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** A raw request with the client's session cookie and exactly the headers given (no helpful defaults). */
async function raw(system: TestSystem, client: HttpClient, method: string, path: string, headers: Record<string, string>, body?: string) {
  const res = await fetch(`${system.baseUrl}${path}`, { method, headers: { cookie: client.cookieHeader(), ...headers }, body });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: (text && (res.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : text) as ErrorBody };
}

describe('CSRF: state changes with the session cookie', () => {
  let system: TestSystem;
  let client: HttpClient;
  let frontend: Awaited<ReturnType<typeof frontendServer>>;
  const evil = 'https://evil.example';
  const contact = () => JSON.stringify({ email: uniqueEmail('csrf'), name: 'C' });

  before(async () => {
    frontend = await frontendServer();
    system = await startTestSystem({ worker: false, overrides: { FRONTEND_URL: frontend.origin } });
    client = await signIn(system.baseUrl, uniqueEmail('csrf-user'));
  });
  after(async () => {
    await system.close();
    await frontend.close();
  });

  const json = { 'content-type': 'application/json' };

  it('accepts a JSON request from our own origin and from the frontend origin', async () => {
    expect((await raw(system, client, 'POST', '/api/contacts', { ...json, origin: system.baseUrl }, contact())).status).to.equal(201);
    expect((await raw(system, client, 'POST', '/api/contacts', { ...json, origin: frontend.origin }, contact())).status).to.equal(201);
  });

  it('refuses a request from another origin with 403, creating nothing', async () => {
    const before = (await client.get<{ items: unknown[] }>('/api/contacts?limit=200')).body.items.length;
    for (const origin of [evil, 'null', `${frontend.origin}.evil.example`, `${system.baseUrl}.evil.example`]) {
      const res = await raw(system, client, 'POST', '/api/contacts', { ...json, origin }, contact());
      expect(res.status, origin).to.equal(403);
      expect(res.body.error.code).to.equal('csrf_origin_refused');
    }
    expect((await client.get<{ items: unknown[] }>('/api/contacts?limit=200')).body.items.length).to.equal(before);
  });

  it('refuses a state change that carries no Origin and no Referer', async () => {
    const res = await raw(system, client, 'POST', '/api/contacts', json, contact());
    expect(res.status).to.equal(403);
    expect(res.body.error.code).to.equal('csrf_origin_missing');
  });

  it('falls back to the Referer when a client sends no Origin', async () => {
    expect((await raw(system, client, 'POST', '/api/contacts', { ...json, referer: `${system.baseUrl}/some/page` }, contact())).status).to.equal(201);
    expect((await raw(system, client, 'POST', '/api/contacts', { ...json, referer: `${evil}/page` }, contact())).status).to.equal(403);
  });

  it('refuses a form-encoded or plain-text body, which a cross-site form could send (415)', async () => {
    for (const type of ['application/x-www-form-urlencoded', 'text/plain', 'multipart/form-data; boundary=x']) {
      const res = await raw(system, client, 'POST', '/api/contacts', { 'content-type': type, origin: system.baseUrl }, 'email=a@b.c&name=x');
      expect(res.status, type).to.equal(415);
    }
  });

  it('refuses a body-less POST without X-Requested-With, and accepts it with one', async () => {
    const plain = await raw(system, client, 'POST', '/auth/logout', { origin: system.baseUrl });
    expect(plain.status).to.equal(403);
    expect(plain.body.error.code).to.equal('csrf_simple_request');
    expect((await client.get('/api/me')).status, 'still signed in').to.equal(200);
    const other = await signIn(system.baseUrl, uniqueEmail('logout'));
    expect((await raw(system, other, 'POST', '/auth/logout', { origin: system.baseUrl, 'x-requested-with': 'fetch' })).status).to.equal(204);
  });

  it('checks the origin of PATCH and DELETE too', async () => {
    const made = (await client.post<{ id: string }>('/api/contacts', { email: uniqueEmail('target'), name: 'T' })).body;
    expect((await raw(system, client, 'PATCH', `/api/contacts/${made.id}`, { ...json, origin: evil }, '{"name":"x"}')).status).to.equal(403);
    expect((await raw(system, client, 'DELETE', `/api/contacts/${made.id}`, { origin: evil })).status).to.equal(403);
    expect((await raw(system, client, 'DELETE', `/api/contacts/${made.id}`, {})).status).to.equal(403);
    expect((await client.get<{ name: string; deleted_at: string | null }>(`/api/contacts/${made.id}`)).body).to.include({ name: 'T', deleted_at: null });
    expect((await raw(system, client, 'DELETE', `/api/contacts/${made.id}`, { origin: system.baseUrl })).status).to.equal(204);
  });

  it('checks DELETE /api/me, so another site cannot delete the account', async () => {
    const victim = await signIn(system.baseUrl, uniqueEmail('victim'));
    expect((await raw(system, victim, 'DELETE', '/api/me', { origin: evil })).status).to.equal(403);
    expect((await victim.get('/api/me')).status).to.equal(200);
  });

  it('leaves reads alone and changes nothing on GET', async () => {
    expect((await raw(system, client, 'GET', '/api/contacts', { origin: evil })).status).to.equal(200);
    const before = (await client.get<{ items: unknown[] }>('/api/contacts?limit=200')).body.items.length;
    await raw(system, client, 'GET', `/api/contacts?email=${encodeURIComponent(uniqueEmail('get'))}&name=x`, {});
    expect((await client.get<{ items: unknown[] }>('/api/contacts?limit=200')).body.items.length).to.equal(before);
  });

  it('does not apply to the Pub/Sub webhook, which no cookie authenticates', async () => {
    const res = await fetch(`${system.baseUrl}/webhooks/gmail`, { method: 'POST', headers: { 'content-type': 'application/json', origin: evil }, body: '{}' });
    expect(res.status).to.equal(401);
  });
});

describe('CORS', () => {
  let system: TestSystem;
  before(async () => {
    system = await startTestSystem({ worker: false, overrides: { FRONTEND_URL: 'https://app.example' } });
  });
  after(async () => {
    await system.close();
  });

  const preflight = (origin: string) =>
    fetch(`${system.baseUrl}/api/contacts`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });

  it('lets the frontend origin call the API with credentials', async () => {
    const res = await preflight('https://app.example');
    expect(res.status).to.be.oneOf([200, 204]);
    expect(res.headers.get('access-control-allow-origin')).to.equal('https://app.example');
    expect(res.headers.get('access-control-allow-credentials')).to.equal('true');
    expect(res.headers.get('access-control-allow-methods')).to.contain('PATCH');
    const get = await fetch(`${system.baseUrl}/openapi.json`, { headers: { origin: 'https://app.example' } });
    expect(get.headers.get('access-control-allow-origin')).to.equal('https://app.example');
    expect(get.headers.get('vary')).to.match(/origin/i);
  });

  it('gives any other origin no CORS permission', async () => {
    for (const origin of ['https://evil.example', 'null', 'http://app.example']) {
      const res = await preflight(origin);
      expect(res.headers.get('access-control-allow-origin'), origin).to.equal(null);
      expect(res.headers.get('access-control-allow-credentials'), origin).to.equal(null);
    }
  });
});

describe('rate limits', function () {
  this.timeout(30000);
  let system: TestSystem;
  before(async () => {
    system = await startTestSystem({ worker: false, overrides: { RATE_LIMIT_PER_IP_PER_MINUTE: '30', RATE_LIMIT_PER_USER_PER_MINUTE: '10', RATE_LIMIT_SIGN_IN_PER_MINUTE: '4' } });
  });
  after(async () => {
    await system.close();
  });

  /** Distinct client addresses are simulated with X-Forwarded-For on a system that trusts it. */
  it('limits sign-in attempts per IP more strictly, with 429 and Retry-After', async () => {
    const statuses: number[] = [];
    let limited: Response | undefined;
    for (let i = 0; i < 6; i += 1) {
      const res = await fetch(`${system.baseUrl}/auth/google?login_hint=${encodeURIComponent(uniqueEmail('limit'))}`, { redirect: 'manual' });
      statuses.push(res.status);
      if (res.status === 429) limited ??= res;
    }
    expect(statuses.slice(0, 4).every((s) => s === 302)).to.equal(true);
    expect(statuses.slice(4)).to.deep.equal([429, 429]);
    expect(Number(limited!.headers.get('retry-after'))).to.be.within(1, 60);
    const body = (await limited!.json()) as ErrorBody;
    expect(body.error.code).to.equal('rate_limited');
    // Refused before routing, yet logged (and counted) under its route, not as "unmatched".
    const refusedLines = system.logLines
      .flatMap((chunk) => chunk.split('\n'))
      .filter((line) => line.includes('"msg":"request"') && line.includes('"status":429'))
      .map((line) => JSON.parse(line) as { route: string });
    expect(refusedLines.map((l) => l.route)).to.include('/auth/google').and.not.include('unmatched');
  });

  it('limits one signed-in user per minute, apart from their IP', async () => {
    const trusted = await startTestSystem({ worker: false, overrides: { TRUST_PROXY: 'true', RATE_LIMIT_PER_USER_PER_MINUTE: '10' } });
    try {
      const busy = uniqueEmail('busy');
      const user = await signIn(trusted.baseUrl, busy);
      const statuses: number[] = [];
      for (let i = 0; i < 12; i += 1) {
        // A new address each time: the per-IP limit never applies, the per-user one does.
        statuses.push((await user.get('/api/me', { 'x-forwarded-for': `10.0.0.${i + 1}` })).status);
      }
      expect(statuses.filter((s) => s === 200)).to.have.length(10);
      expect(statuses.slice(10)).to.deep.equal([429, 429]);
      const refused = await user.get<ErrorBody>('/api/me', { 'x-forwarded-for': '10.0.1.1' });
      expect(refused.status).to.equal(429);
      expect(refused.body.error.code).to.equal('rate_limited');
      expect(Number(refused.headers.get('retry-after'))).to.be.within(1, 60);
      expect(refused.headers.get('x-ratelimit-remaining')).to.equal('0');
      const other = await signIn(trusted.baseUrl, uniqueEmail('calm'));
      const calm = await other.get('/api/me');
      expect(calm.status, 'another user is not limited').to.equal(200);
      expect(calm.headers.get('x-ratelimit-remaining')).to.equal('9');
      // The limit is the user's, not the session's: signing in again does not start a new count.
      const sameUserAgain = await signIn(trusted.baseUrl, busy);
      expect((await sameUserAgain.get('/api/me')).status, "a second session of the limited user").to.equal(429);
    } finally {
      await trusted.close();
    }
  });

  it('limits any client per IP, but never the Pub/Sub webhook or the health probes', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 32; i += 1) statuses.push((await fetch(`${system.baseUrl}/no/such/${i}`)).status);
    expect(statuses.filter((s) => s === 429).length).to.be.at.least(1);
    expect((await fetch(`${system.baseUrl}/livez`)).status).to.equal(200);
    const push = await fetch(`${system.baseUrl}/webhooks/gmail`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(push.status, 'the webhook answers for itself (401 without a token), not 429').to.equal(401);
  });
});
