import { expect } from 'chai';
import { generateKeyPairSync } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import jws from 'jws';
import { signIn, uniqueEmail } from '../support/http-client';
import { startTestSystem, type TestSystem } from '../support/system';

interface ErrorBody {
  error: { code: string; message: string };
}

describe('POST /webhooks/gmail (Pub/Sub push)', () => {
  let system: TestSystem;
  let userEmail: string;
  let userId: string;

  before(async () => {
    // Web only: queued syncs stay in the queue where the tests can see them.
    system = await startTestSystem({ worker: false });
    userEmail = uniqueEmail('push');
    const client = await signIn(system.baseUrl, userEmail);
    userId = ((await client.get<{ id: string }>('/api/me')).body).id;
  });
  after(async () => {
    await system.close();
  });

  const config = () => system.container.config.google;

  function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    const iat = Math.floor(Date.now() / 1000);
    return {
      iss: 'https://accounts.google.com',
      aud: config().pushAudience,
      azp: '112233445566778899001',
      sub: '112233445566778899001',
      email: config().pushServiceAccount,
      email_verified: true,
      iat,
      exp: iat + 3600,
      ...overrides,
    };
  }

  function envelope(data: unknown, raw = false): string {
    const encoded = raw ? String(data) : Buffer.from(JSON.stringify(data)).toString('base64');
    return JSON.stringify({
      message: { data: encoded, messageId: '2070443601311540', message_id: '2070443601311540', publishTime: new Date().toISOString() },
      subscription: 'projects/sandbox-project/subscriptions/gmail-push',
    });
  }

  async function push(body: string, token: string | null, contentType = 'application/json') {
    const headers: Record<string, string> = { 'content-type': contentType };
    if (token !== null) headers.authorization = `Bearer ${token}`;
    const res = await fetch(`${system.baseUrl}/webhooks/gmail`, { method: 'POST', headers, body });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as ErrorBody) : null };
  }

  async function syncJobsFor(id: string): Promise<number> {
    const jobs = await system.container.queues.byName['mailbox-sync'].getJobs(['waiting', 'delayed', 'prioritized', 'active']);
    return jobs.filter((j) => (j.data as { userId?: string }).userId === id).length;
  }

  async function clearSyncJobs(): Promise<void> {
    await system.container.queues.byName['mailbox-sync'].obliterate({ force: true });
  }

  beforeEach(clearSyncJobs);

  async function pushesCounted(outcome: string): Promise<number> {
    const metric = (await system.container.metrics.registry.getMetricsAsJSON()).find((m) => m.name === 'gmail_pushes_total');
    return Number(metric?.values.find((v) => v.labels.source === 'push' && v.labels.outcome === outcome)?.value ?? 0);
  }

  it('queues a mailbox sync for a push with a numeric historyId and answers 204', async () => {
    const queuedBefore = await pushesCounted('queued');
    const res = await push(envelope({ emailAddress: userEmail, historyId: 9876543 }), system.sandbox!.signToken(claims()));
    expect(res.status).to.equal(204);
    expect(await pushesCounted('queued')).to.equal(queuedBefore + 1);
    expect(await syncJobsFor(userId)).to.equal(1);
    const [job] = await system.container.queues.byName['mailbox-sync'].getJobs(['waiting']);
    // ids only: the job carries no address, history id or content
    expect(Object.keys(job!.data as object).sort()).to.deep.equal(['requestId', 'trigger', 'userId']);
  });

  it('accepts historyId as a string, and an address in another case', async () => {
    const res = await push(envelope({ emailAddress: userEmail.toUpperCase(), historyId: '123456789012' }), system.sandbox!.signToken(claims()));
    expect(res.status).to.equal(204);
    expect(await syncJobsFor(userId)).to.equal(1);
  });

  it('coalesces a burst of pushes for one user into one queued sync', async () => {
    const token = system.sandbox!.signToken(claims());
    const results = await Promise.all([1, 2, 3, 4, 5].map((n) => push(envelope({ emailAddress: userEmail, historyId: 1000 + n }), token)));
    expect(results.map((r) => r.status)).to.deep.equal([204, 204, 204, 204, 204]);
    expect(await syncJobsFor(userId)).to.equal(1);
  });

  it('still queues a sync for a push whose historyId is at or below the stored cursor', async () => {
    const connection = await system.container.db('gmail_connections').where({ user_id: userId }).first();
    expect(connection.history_id, 'the cursor set at sign-in').to.not.equal(null);
    for (const historyId of [String(connection.history_id), '1']) {
      await clearSyncJobs();
      const res = await push(envelope({ emailAddress: userEmail, historyId }), system.sandbox!.signToken(claims()));
      expect(res.status).to.equal(204);
      expect(await syncJobsFor(userId), `historyId ${historyId}`).to.equal(1);
    }
  });

  it('acknowledges a push for a mailbox it does not know and queues nothing', async () => {
    const res = await push(envelope({ emailAddress: uniqueEmail('nobody'), historyId: 5 }), system.sandbox!.signToken(claims()));
    expect(res.status).to.equal(204);
    const counts = await system.container.queues.byName['mailbox-sync'].getJobCounts('waiting', 'delayed', 'prioritized');
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).to.equal(0);
  });

  it('acknowledges an authentic push whose body cannot be read, and queues nothing', async () => {
    const token = system.sandbox!.signToken(claims());
    for (const body of ['{"message": ', envelope('not base64 json!', true), JSON.stringify({ message: {} }), envelope({ emailAddress: userEmail }), envelope({ emailAddress: userEmail, historyId: -4 }), '[]', '{"__proto__": {"x": 1}}', '{"message": "\\ud800"}']) {
      const res = await push(body, token);
      expect(res.status, body).to.equal(204);
    }
    expect(await syncJobsFor(userId)).to.equal(0);
  });

  const refused: Array<[string, () => string | null]> = [
    ['no Authorization header', () => null],
    ['a token that is not a JWT', () => 'not-a-token'],
    ['a token for another audience', () => system.sandbox!.signToken(claims({ aud: 'https://elsewhere.example/webhooks/gmail' }))],
    ['a token of another service account', () => system.sandbox!.signToken(claims({ email: 'intruder@evil-project.iam.gserviceaccount.com' }))],
    ['a token whose email is not verified', () => system.sandbox!.signToken(claims({ email_verified: false }))],
    ['an expired token', () => system.sandbox!.signToken(claims({ iat: Math.floor(Date.now() / 1000) - 7200, exp: Math.floor(Date.now() / 1000) - 3600 }))],
    ['a token from another issuer', () => system.sandbox!.signToken(claims({ iss: 'https://issuer.evil.example' }))],
    [
      'a token signed with a key Google does not publish',
      () => {
        const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
        return jws.sign({ header: { alg: 'RS256', kid: 'attacker-key', typ: 'JWT' }, payload: claims(), privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() });
      },
    ],
  ];
  for (const [what, token] of refused) {
    it(`refuses ${what} with 401 and queues nothing`, async () => {
      const res = await push(envelope({ emailAddress: userEmail, historyId: 42 }), token());
      expect(res.status).to.equal(401);
      expect(res.body!.error.code).to.equal('push_unauthenticated');
      expect(await syncJobsFor(userId)).to.equal(0);
    });
  }

  it('logs why a push token was refused without any part of the token', async () => {
    const bogus = 'abc.def';
    const expired = system.sandbox!.signToken(claims({ iat: Math.floor(Date.now() / 1000) - 7200, exp: Math.floor(Date.now() / 1000) - 3600 }));
    const before = system.logLines.length;
    for (const token of [bogus, expired]) expect((await push(envelope({ emailAddress: userEmail, historyId: 42 }), token)).status).to.equal(401);
    const lines = system.logLines.slice(before).join('');
    expect(lines).to.contain('push refused');
    expect(lines).to.not.contain(bogus);
    for (const segment of expired.split('.')) expect(lines).to.not.contain(segment.slice(0, 24));
    expect(lines).to.not.contain('gserviceaccount.com');
  });

  it('refuses an oversized body with 413', async () => {
    const big = JSON.stringify({ message: { data: 'A'.repeat(100_000) } });
    const res = await push(big, system.sandbox!.signToken(claims()));
    expect(res.status).to.equal(413);
    expect(res.body!.error.code).to.equal('payload_too_large');
  });

  it('refuses a compressed body or one in another charset with 415, and reads JSON whatever type it declares', async () => {
    const token = system.sandbox!.signToken(claims());
    const body = envelope({ emailAddress: userEmail, historyId: 42 });
    const gzipped = await fetch(`${system.baseUrl}/webhooks/gmail`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', authorization: `Bearer ${token}` }, body: gzipSync(body) });
    expect(gzipped.status).to.equal(415);
    expect(((await gzipped.json()) as ErrorBody).error.code).to.equal('unsupported_media_type');
    const latin1 = await push(body, token, 'application/json; charset=iso-8859-1');
    expect(latin1.status).to.equal(415);
    expect(latin1.body!.error.code).to.equal('unsupported_media_type');
    expect(await syncJobsFor(userId)).to.equal(0);
    expect((await push(body, token, 'text/plain')).status).to.equal(204);
    expect(await syncJobsFor(userId)).to.equal(1);
    await clearSyncJobs();
    expect((await push(body, token, 'APPLICATION/JSON; Charset=UTF-8')).status).to.equal(204);
    expect(await syncJobsFor(userId)).to.equal(1);
    await clearSyncJobs();
    const untyped = await fetch(`${system.baseUrl}/webhooks/gmail`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: Buffer.from(body) });
    expect(untyped.status).to.equal(204);
    expect(await syncJobsFor(userId)).to.equal(1);
  });

  it('takes the bearer scheme in any case', async () => {
    const res = await fetch(`${system.baseUrl}/webhooks/gmail`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `bearer ${system.sandbox!.signToken(claims())}` },
      body: envelope({ emailAddress: userEmail, historyId: 44 }),
    });
    expect(res.status).to.equal(204);
    expect(await syncJobsFor(userId)).to.equal(1);
  });

  it('answers a push with the security headers of every answer and no CORS grant', async () => {
    const res = await fetch(`${system.baseUrl}/webhooks/gmail`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'https://evil.example', authorization: `Bearer ${system.sandbox!.signToken(claims())}` },
      body: envelope({ emailAddress: userEmail, historyId: 43 }),
    });
    expect(res.status).to.equal(204);
    expect(res.headers.get('x-content-type-options')).to.equal('nosniff');
    expect(res.headers.get('strict-transport-security')).to.match(/max-age=/);
    expect(res.headers.get('x-request-id')).to.be.a('string');
    expect(res.headers.get('access-control-allow-origin')).to.equal(null);
  });

  it('takes the pushes that the sandbox Pub/Sub sends when mail arrives', async () => {
    const res = await fetch(`${system.baseUrl}/sandbox/gmail/mailboxes/${encodeURIComponent(userEmail)}/incoming`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ from: 'someone@example.org', subject: 'hello', text: 'hi' }),
    });
    expect(res.status).to.equal(201);
    let queued = 0;
    for (let i = 0; i < 100 && queued === 0; i += 1) {
      await new Promise((r) => setTimeout(r, 50));
      queued = await syncJobsFor(userId);
    }
    expect(queued).to.equal(1);
  });
});
