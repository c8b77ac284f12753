import { expect } from 'chai';
import { Client } from 'pg';
import { HttpClient, signIn, uniqueEmail } from '../support/http-client';
import { startTestSystem, type TestSystem } from '../support/system';
import { testDatabaseUrl } from '../support/config';
import { createGoogleStrategy, IdTokenError } from '../../src/http/auth/google-strategy';

interface ErrorBody {
  error: { code: string; message: string; details: unknown[] };
}

/** The sign-in up to the callback URL that Google (the sandbox) redirects the browser to. */
async function callbackUrl(client: HttpClient, email: string): Promise<{ authorize: URL; callback: URL }> {
  const start = await client.get(`/auth/google?login_hint=${encodeURIComponent(email)}`);
  const authorize = new URL(start.headers.get('location')!);
  const approved = await client.get(authorize.toString());
  return { authorize, callback: new URL(approved.headers.get('location')!) };
}

describe('OAuth sign-in hardening', () => {
  let system: TestSystem;
  let pg: Client;
  before(async () => {
    system = await startTestSystem({ worker: false });
    pg = new Client({ connectionString: testDatabaseUrl() });
    await pg.connect();
  });
  after(async () => {
    await pg.end();
    await system.close();
  });

  it('asks Google with a state, PKCE (S256), offline access and exactly the scopes the product needs', async () => {
    const { authorize } = await callbackUrl(new HttpClient(system.baseUrl), uniqueEmail('params'));
    const p = authorize.searchParams;
    expect(p.get('state')).to.match(/^.{16,}$/);
    expect(p.get('code_challenge')).to.match(/^[A-Za-z0-9_-]{43}$/);
    expect(p.get('code_challenge_method')).to.equal('S256');
    expect(p.get('access_type')).to.equal('offline');
    expect(p.get('response_type')).to.equal('code');
    expect(p.get('scope')!.split(' ').sort()).to.deep.equal([
      'email',
      'https://www.googleapis.com/auth/gmail.readonly',
      'https://www.googleapis.com/auth/gmail.send',
      'openid',
      'profile',
    ]);
  });

  it('answers the same callback hit twice (double click, retried redirect) without a 500 and without a second user', async () => {
    const email = uniqueEmail('twice');
    const client = new HttpClient(system.baseUrl);
    const { callback } = await callbackUrl(client, email);
    const first = await client.get(callback.toString());
    expect(first.status).to.equal(302);
    const second = await client.get(callback.toString());
    expect(second.status).to.be.within(300, 499);
    const { rows } = await pg.query('SELECT count(*)::int AS n FROM users WHERE email = $1', [email]);
    expect(rows[0].n).to.equal(1);
    expect((await client.get('/api/me')).status, 'the first sign-in stands').to.equal(200);
  });

  it('answers the same callback hit several times at once (a double click) with one sign-in and 4xx for the rest', async () => {
    const email = uniqueEmail('doubleclick');
    const client = new HttpClient(system.baseUrl);
    const { callback } = await callbackUrl(client, email);
    const answers = await Promise.all([1, 2, 3].map(() => client.get<ErrorBody>(callback.toString())));
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses.filter((s) => s === 302)).to.have.length(1);
    for (const other of answers.filter((a) => a.status !== 302)) {
      expect(other.status).to.be.within(400, 499);
      expect(other.body.error.code).to.be.oneOf(['oauth_code_invalid', 'oauth_state_invalid']);
    }
    const { rows } = await pg.query('SELECT count(*)::int AS n FROM users WHERE email = $1', [email]);
    expect(rows[0].n).to.equal(1);
  });

  it('refuses a callback from a browser that did not start the sign-in (state bound to the session), and exchanges no code', async () => {
    const email = uniqueEmail('stolen');
    const victim = new HttpClient(system.baseUrl);
    const { callback } = await callbackUrl(victim, email);
    const attacker = new HttpClient(system.baseUrl);
    const res = await attacker.get<ErrorBody>(callback.toString());
    expect(res.status).to.equal(403);
    expect(res.body.error.code).to.equal('oauth_state_invalid');
    expect((await attacker.get('/api/me')).status).to.equal(401);
    // The code was not spent: the browser that started the sign-in still completes it with it.
    expect((await victim.get(callback.toString())).status).to.equal(302);
    expect((await victim.get('/api/me')).status).to.equal(200);
  });

  it('answers a callback with Google\'s error (the user cancelled) with 403 and no session', async () => {
    const client = new HttpClient(system.baseUrl);
    const res = await client.get<ErrorBody>('/auth/google/callback?error=access_denied&state=x');
    expect(res.status).to.equal(403);
    expect(res.body.error.code).to.equal('oauth_denied');
    expect((await client.get('/api/me')).status).to.equal(401);
  });

  it('ends the sign-in attempt that Google reports refused: its state cannot complete a sign-in afterwards', async () => {
    const client = new HttpClient(system.baseUrl);
    const { callback } = await callbackUrl(client, uniqueEmail('declined'));
    const state = callback.searchParams.get('state')!;
    const denied = await client.get<ErrorBody>(`/auth/google/callback?error=access_denied&state=${encodeURIComponent(state)}`);
    expect(denied.status).to.equal(403);
    expect(denied.body.error.code).to.equal('oauth_denied');
    const late = await client.get<ErrorBody>(callback.toString());
    expect(late.status).to.equal(403);
    expect(late.body.error.code).to.equal('oauth_state_invalid');
    expect((await client.get('/api/me')).status).to.equal(401);
  });

  it("checks the ID token's audience, issuer and verified email before it trusts the identity", async () => {
    const strategy = createGoogleStrategy(system.container.config, system.container.oauthClient) as unknown as {
      _verify(access: string, refresh: string, params: Record<string, unknown>, profile: unknown, done: (err: Error | null, user?: unknown) => void): void;
    };
    const now = Math.floor(Date.now() / 1000);
    const claims = { iss: 'https://accounts.google.com', aud: system.container.config.google.clientId, sub: '1234567890', email: 'id@example.com', email_verified: true, iat: now, exp: now + 600 };
    const verify = (overrides: Record<string, unknown>) =>
      new Promise<{ err: Error | null; user?: unknown }>((resolve) =>
        strategy._verify('ya29.a', '1//r', { id_token: system.sandbox!.signToken({ ...claims, ...overrides }), expires_in: 3600 }, {}, (err, user) => resolve({ err, user })),
      );
    expect((await verify({})).user).to.deep.include({ identity: { sub: '1234567890', email: 'id@example.com', name: 'id' } });
    for (const overrides of [{ aud: 'another-client.apps.googleusercontent.com' }, { iss: 'https://issuer.evil.example' }, { email_verified: false }, { iat: now - 7200, exp: now - 3600 }]) {
      const { err, user } = await verify(overrides);
      expect(err, JSON.stringify(overrides)).to.be.instanceOf(IdTokenError);
      expect(user).to.equal(undefined);
    }
  });

  it('identifies the user by Google\'s subject id: a new address of the same account updates that user', async () => {
    const { users } = system.container.services;
    const sub = `sub-${Date.now()}`;
    const tokens = { accessToken: 'ya29.a', refreshToken: '1//r', expiresAt: new Date(Date.now() + 3600_000), scopes: [] };
    const first = await users.signIn({ sub, email: uniqueEmail('old'), name: 'A' }, tokens, {});
    const renamed = uniqueEmail('new');
    const second = await users.signIn({ sub, email: renamed, name: 'A' }, { ...tokens, refreshToken: null }, {});
    expect(second.user.id).to.equal(first.user.id);
    expect(second.user.email).to.equal(renamed);
  });

  it('refuses another Google account that claims an address already taken here', async () => {
    const { users } = system.container.services;
    const email = uniqueEmail('taken');
    const tokens = { accessToken: 'ya29.a', refreshToken: '1//r', expiresAt: null, scopes: [] };
    await users.signIn({ sub: `sub-a-${Date.now()}`, email, name: 'A' }, tokens, {});
    let caught: unknown;
    await users.signIn({ sub: `sub-b-${Date.now()}`, email, name: 'B' }, tokens, {}).catch((err: unknown) => (caught = err));
    expect((caught as { code?: string }).code).to.equal('email_taken');
  });
});

describe('authorization', () => {
  let system: TestSystem;
  let alice: HttpClient;
  let bob: HttpClient;
  let admin: HttpClient;
  const adminEmail = uniqueEmail('operator');

  before(async () => {
    system = await startTestSystem({ worker: false, overrides: { ADMIN_EMAILS: adminEmail } });
    alice = await signIn(system.baseUrl, uniqueEmail('alice'));
    bob = await signIn(system.baseUrl, uniqueEmail('bob'));
    admin = await signIn(system.baseUrl, adminEmail);
  });
  after(async () => {
    await system.close();
  });

  const someId = '0190a3c4-0000-7000-8000-000000000000';
  const apiRoutes: Array<[string, string, unknown?]> = [
    ['GET', '/api/me'],
    ['DELETE', '/api/me'],
    ['GET', '/api/contacts'],
    ['POST', '/api/contacts', { email: 'x@example.org', name: 'X' }],
    ['GET', `/api/contacts/${someId}`],
    ['PATCH', `/api/contacts/${someId}`, { name: 'Y' }],
    ['DELETE', `/api/contacts/${someId}`],
    ['GET', `/api/contacts/${someId}/messages`],
    ['GET', '/api/conversations'],
  ];
  for (const [method, path, body] of apiRoutes) {
    it(`needs a session for ${method} ${path.replace(someId, ':id')} (401)`, async () => {
      const res = await new HttpClient(system.baseUrl).request<ErrorBody>(method, path, body === undefined ? {} : { json: body });
      expect(res.status).to.equal(401);
      expect(res.body.error.code).to.equal('unauthenticated');
    });
  }

  it("answers another user's contact, its history and a missing one with the same 404", async () => {
    const mine = (await alice.post<{ id: string }>('/api/contacts', { email: uniqueEmail('c'), name: 'Mine', description_ai: 'secret instruction' })).body;
    const missing = await bob.get<ErrorBody>(`/api/contacts/${someId}`);
    const missingHistory = await bob.get<ErrorBody>(`/api/contacts/${someId}/messages`);
    const theirs = await bob.get<ErrorBody>(`/api/contacts/${mine.id}`);
    const theirHistory = await bob.get<ErrorBody>(`/api/contacts/${mine.id}/messages`);
    expect(theirs.status).to.equal(404);
    expect(theirs.text).to.equal(missing.text);
    expect(theirHistory.status).to.equal(404);
    expect(theirHistory.text).to.equal(missingHistory.text);
    const patched = await bob.patch<ErrorBody>(`/api/contacts/${mine.id}`, { description_ai: 'hijacked' });
    expect(patched.status).to.equal(404);
    expect((await alice.get<{ description_ai: string }>(`/api/contacts/${mine.id}`)).body.description_ai).to.equal('secret instruction');
  });

  it("never lists another user's contacts or conversations", async () => {
    const mine = (await alice.post<{ id: string }>('/api/contacts', { email: uniqueEmail('c'), name: 'Private' })).body;
    const contacts = await bob.get<{ items: Array<{ id: string }> }>('/api/contacts?limit=200&include_deleted=true');
    expect(contacts.body.items.map((c) => c.id)).to.not.include(mine.id);
    const conversations = await bob.get<{ items: Array<{ contact: { id: string } }> }>('/api/conversations?limit=200');
    expect(conversations.body.items.map((c) => c.contact.id)).to.not.include(mine.id);
  });

  it('refuses fields a client must not write (mass assignment) with 400', async () => {
    const mine = (await alice.post<{ id: string }>('/api/contacts', { email: uniqueEmail('c'), name: 'Fixed' })).body;
    for (const field of ['id', 'user_id', 'deleted_at', 'created_at', 'updated_at', 'email_hash']) {
      const created = await alice.post<ErrorBody>('/api/contacts', { email: uniqueEmail('m'), name: 'M', [field]: field === 'deleted_at' ? null : 'x' });
      expect(created.status, `create with ${field}`).to.equal(400);
      const patched = await alice.patch<ErrorBody>(`/api/contacts/${mine.id}`, { [field]: 'x' });
      expect(patched.status, `update with ${field}`).to.equal(400);
    }
  });

  it('keeps Bull Board, its API and its static files for operators: anonymous 401, others 403', async () => {
    const paths = ['/admin/queues', '/admin/queues/api/queues', '/admin/queues/static/js/main.js', '/admin/queues/queue/reply'];
    for (const path of paths) {
      expect((await new HttpClient(system.baseUrl).get(path)).status, `anonymous ${path}`).to.equal(401);
      expect((await alice.get(path)).status, `user ${path}`).to.equal(403);
    }
    expect((await admin.get('/admin/queues/api/queues')).status).to.equal(200);
  });

  it('lets no one but an operator retry or clean jobs through Bull Board', async () => {
    const put = await alice.request('PUT', '/admin/queues/api/queues/reply/retry/failed', { headers: { 'x-requested-with': 'fetch' } });
    expect(put.status).to.equal(403);
  });
});
