import { expect } from 'chai';
import { Client } from 'pg';
import { HttpClient, signIn, uniqueEmail } from '../support/http-client';
import { startTestSystem, type TestSystem } from '../support/system';
import { testDatabaseUrl } from '../support/config';

describe('sign-in through the sandbox', () => {
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

  it('follows /auth/google?login_hint through its redirects and opens a session', async () => {
    const email = uniqueEmail('alice');
    const client = new HttpClient(system.baseUrl);
    const hops = await client.follow(`/auth/google?login_hint=${encodeURIComponent(email)}`);
    const locations = hops.map((h) => h.headers.get('location') ?? '');
    // our app → sandbox consent (auto-approved) → our callback → the frontend
    expect(hops[0]!.status).to.equal(302);
    const authorize = new URL(locations[0]!);
    expect(authorize.pathname).to.equal('/sandbox/oauth2/auth');
    expect(authorize.searchParams.get('access_type')).to.equal('offline');
    expect(authorize.searchParams.get('state')).to.match(/.{8,}/);
    expect(authorize.searchParams.get('code_challenge_method')).to.equal('S256');
    expect(authorize.searchParams.get('login_hint')).to.equal(email);
    expect(authorize.searchParams.get('scope')).to.contain('gmail.readonly').and.contain('gmail.send');
    expect(locations.some((l) => l.includes('/auth/google/callback?') && new URL(l).searchParams.has('code'))).to.equal(true);
    expect(client.hasCookie('sid')).to.equal(true);

    const me = await client.get<{ email: string; is_subscription_active: boolean; gmail: { status: string; watch_expires_at: string | null } }>('/api/me');
    expect(me.status).to.equal(200);
    expect(me.body.email).to.equal(email);
    expect(me.body.is_subscription_active).to.equal(true);
    expect(me.body.gmail.status).to.equal('ok');
    expect(me.body.gmail.watch_expires_at).to.be.a('string');
    expect(Date.parse(me.body.gmail.watch_expires_at!)).to.be.greaterThan(Date.now() + 6 * 24 * 3600_000);
  });

  it('stores the tokens encrypted, never in clear', async () => {
    const email = uniqueEmail('tokens');
    await signIn(system.baseUrl, email);
    const { rows } = await pg.query(
      `SELECT g.refresh_token, g.access_token, g.scopes FROM gmail_connections g JOIN users u ON u.id = g.user_id WHERE u.email = $1`,
      [email],
    );
    expect(rows).to.have.length(1);
    for (const column of ['refresh_token', 'access_token']) {
      expect(rows[0][column]).to.match(/^t1\.[A-Za-z0-9_-]+$/);
    }
    expect(rows[0].scopes).to.include('https://www.googleapis.com/auth/gmail.send');
  });

  it('updates the same user on a second sign-in and keeps the stored refresh token', async () => {
    const email = uniqueEmail('again');
    await signIn(system.baseUrl, email);
    const before = await pg.query(`SELECT u.id, g.refresh_token FROM users u JOIN gmail_connections g ON g.user_id = u.id WHERE u.email = $1`, [email]);
    const second = await signIn(system.baseUrl, email);
    const after = await pg.query(`SELECT u.id, g.refresh_token FROM users u JOIN gmail_connections g ON g.user_id = u.id WHERE u.email = $1`, [email]);
    expect(after.rows).to.have.length(1);
    expect(after.rows[0].id).to.equal(before.rows[0].id);
    // Google sends no refresh token the second time; the stored one stays.
    expect(after.rows[0].refresh_token).to.equal(before.rows[0].refresh_token);
    expect((await second.get('/api/me')).status).to.equal(200);
  });

  it('signs in the same new user from several tabs at once: no 500, one user, no address in the log', async () => {
    const email = uniqueEmail('tabs');
    const before = system.logLines.length;
    const clients = await Promise.all(Array.from({ length: 6 }, () => signIn(system.baseUrl, email)));
    const ids = await Promise.all(clients.map(async (c) => (await c.get<{ id: string }>('/api/me')).body.id));
    expect(new Set(ids).size).to.equal(1);
    const { rows } = await pg.query('SELECT count(*)::int AS n FROM users WHERE email = $1', [email]);
    expect(rows[0].n).to.equal(1);
    const lines = system.logLines.slice(before).join('');
    expect(lines).to.not.contain('unhandled error');
    expect(lines).to.not.contain(email);
  });

  it('asks Google for consent again when no refresh token is stored, and stores the new one', async () => {
    const email = uniqueEmail('reconsent');
    await signIn(system.baseUrl, email);
    await pg.query(`UPDATE gmail_connections SET refresh_token = NULL WHERE user_id = (SELECT id FROM users WHERE email = $1)`, [email]);
    const first = await new HttpClient(system.baseUrl).get(`/auth/google?login_hint=${encodeURIComponent(email)}`);
    expect(new URL(first.headers.get('location')!).searchParams.get('prompt')).to.equal('consent');
    const again = await signIn(system.baseUrl, email);
    expect((await again.get<{ gmail: { status: string } }>('/api/me')).body.gmail.status).to.equal('ok');
    const { rows } = await pg.query(`SELECT refresh_token FROM gmail_connections WHERE user_id = (SELECT id FROM users WHERE email = $1)`, [email]);
    expect(rows[0].refresh_token).to.match(/^t1\./);
  });

  it('does not ask for consent again when a refresh token is stored', async () => {
    const email = uniqueEmail('noprompt');
    await signIn(system.baseUrl, email);
    const res = await new HttpClient(system.baseUrl).get(`/auth/google?login_hint=${encodeURIComponent(email)}`);
    expect(new URL(res.headers.get('location')!).searchParams.get('prompt')).to.equal(null);
  });

  it('refuses a callback whose state does not match the session, without a token exchange', async () => {
    const client = new HttpClient(system.baseUrl);
    const first = await client.get(`/auth/google?login_hint=${encodeURIComponent(uniqueEmail('state'))}`);
    const authorize = new URL(first.headers.get('location')!);
    const approve = await client.get(authorize.toString());
    const callback = new URL(approve.headers.get('location')!);
    callback.searchParams.set('state', 'forged-state-value');
    const res = await client.get(callback.toString());
    expect(res.status).to.equal(403);
    expect((res.body as { error: { code: string } }).error.code).to.equal('oauth_state_invalid');
    expect((await client.get('/api/me')).status).to.equal(401);
  });

  it('answers a callback without code or state with 400', async () => {
    const res = await new HttpClient(system.baseUrl).get('/auth/google/callback');
    expect(res.status).to.equal(400);
    expect((res.body as { error: { code: string } }).error.code).to.equal('oauth_callback_invalid');
  });

  it('asks for /api/me only with a session, and ends the session on logout', async () => {
    expect((await new HttpClient(system.baseUrl).get('/api/me')).status).to.equal(401);
    const client = await signIn(system.baseUrl, uniqueEmail('logout'));
    const cookie = client.cookieHeader();
    expect((await client.post('/auth/logout')).status).to.equal(204);
    // The old cookie no longer opens anything: the session is gone from the server.
    const replay = await fetch(`${system.baseUrl}/api/me`, { headers: { cookie } });
    expect(replay.status).to.equal(401);
  });
});
