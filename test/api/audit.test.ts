import { expect } from 'chai';
import { HttpClient, signIn, uniqueEmail, waitFor } from '../support/http-client';
import { deliverRaw, waitForHistory, waitForIdle } from '../support/mail-loop';
import { startTestSystem, type TestSystem } from '../support/system';
import { grant, rfc822 } from '../sandbox/support';

interface AuditEntry {
  id: string;
  occurred_at: string;
  actor_type: string;
  actor_user_id: string | null;
  subject_user_id: string | null;
  action: string;
  entity_type: string | null;
  entity_id: string | null;
  request_id: string | null;
  job_id: string | null;
  metadata: Record<string, unknown>;
}

interface Page {
  items: AuditEntry[];
  next_cursor: string | null;
}

/** Every action the trail must hold after the flow below. */
const EXPECTED_ACTIONS = [
  'auth.sign_up',
  'auth.sign_in',
  'auth.sign_out',
  'contact.create',
  'contact.update',
  'contact.delete',
  'user.subscription',
  'message.received',
  'message.sent',
  'reply.skipped',
  'reply.failed',
  'message.sent_by_user',
  'conversation.paused',
  'account.deleted',
];

function mail(from: string, to: string, subject: string, text: string, extra: string[] = []): Buffer {
  const id = `<${Math.random().toString(36).slice(2)}@contact.example>`;
  return Buffer.from([`From: ${from}`, `To: ${to}`, `Subject: ${subject}`, `Message-ID: ${id}`, `Date: ${new Date().toUTCString()}`, ...extra, 'Content-Type: text/plain; charset=utf-8', '', text, ''].join('\r\n'));
}

async function walk(client: HttpClient, path: string, limit: number): Promise<{ items: AuditEntry[]; pages: number }> {
  const items: AuditEntry[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const res: { status: number; body: Page; text: string } = await client.get<Page>(`${path}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    expect(res.status, res.text).to.equal(200);
    items.push(...res.body.items);
    cursor = res.body.next_cursor;
    pages += 1;
  } while (cursor && pages < 100);
  return { items, pages };
}

describe('audit trail', function () {
  this.timeout(90_000);
  let system: TestSystem;
  const admin = uniqueEmail('auditor');
  const owner = uniqueEmail('audited');
  const active = uniqueEmail('active.contact');
  const inactive = uniqueEmail('inactive.contact');
  const secrets = [owner, active, inactive, 'Quarterly numbers', 'Figures attached', 'Lunch plans', 'Secret instruction', 'Mrs Inactive', 'Written by hand'];
  let ownerId: string;

  before(async () => {
    // One attempt and no LLM retries, so that a refused LLM call fails the reply for good at once.
    system = await startTestSystem({ overrides: { ADMIN_EMAILS: admin, JOB_ATTEMPTS: '1', LLM_MAX_RETRIES: '0', RATE_LIMIT_SIGN_IN_PER_MINUTE: '1000' } });
  });
  after(async () => {
    await fetch(`${system.baseUrl}/sandbox/openai/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }).catch(() => undefined);
    await system.close();
  });

  it('records every operation of a user, with no content or address, and shows it to that user page by page', async () => {
    await signIn(system.baseUrl, owner); // sign-up
    const client = await signIn(system.baseUrl, owner); // sign-in
    ownerId = (await client.get<{ id: string }>('/api/me')).body.id;

    const a = await client.post<{ id: string }>('/api/contacts', { email: active, name: 'Mr Active', description_ai: 'Secret instruction: be brief.', is_active: true });
    const b = await client.post<{ id: string }>('/api/contacts', { email: inactive, name: 'Mrs Inactive', is_active: false });
    expect([a.status, b.status]).to.deep.equal([201, 201]);
    expect((await client.patch(`/api/contacts/${b.body.id}`, { name: 'Mrs Inactive Jr' })).status).to.equal(200);

    // Received and answered; received and skipped (inactive contact).
    await deliverRaw(system.baseUrl, owner, mail(active, owner, 'Quarterly numbers', 'Figures attached?'));
    await waitForHistory(client, a.body.id, { received: 1, sent: 1 });
    await deliverRaw(system.baseUrl, owner, mail(inactive, owner, 'Lunch plans', 'Free on Friday?'));
    await waitForHistory(client, b.body.id, { received: 1, sent: 0 });

    // A reply that fails for good (the LLM keeps refusing).
    await fetch(`${system.baseUrl}/sandbox/openai/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ fail_next: 1000, status: 500 }) });
    await deliverRaw(system.baseUrl, owner, mail(active, owner, 'Quarterly numbers again', 'Figures attached, again?'));
    await waitFor('a failed reply', async () => (await system.container.db('replies').where({ user_id: ownerId, status: 'failed' }).first()) ?? undefined);
    await fetch(`${system.baseUrl}/sandbox/openai/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });

    // Mail the user writes by hand from Gmail, then the contact answers: recorded, conversation paused.
    const own = await grant(system, owner);
    await own.gmail.users.messages.send({ userId: 'me', requestBody: { raw: rfc822({ From: owner, To: active, Subject: 'From me', 'Message-ID': '<by-hand.audit@owner.example>' }, 'Written by hand.') } });
    await deliverRaw(system.baseUrl, owner, mail(active, owner, 'Re: From me', 'Thanks!', ['In-Reply-To: <by-hand.audit@owner.example>']));
    await waitFor('the hand-written mail recorded', async () => (await system.container.db('audit_log').where({ subject_user_id: ownerId, action: 'conversation.paused' }).first()) ?? undefined);
    await waitForIdle(system);

    // An operator changes the subscription (the admin endpoint and the CLI call this service).
    const adminClient = await signIn(system.baseUrl, admin);
    const adminId = (await adminClient.get<{ id: string }>('/api/me')).body.id;
    await system.container.services.users.setSubscription(owner, false, { actorType: 'admin', actorUserId: adminId, requestId: 'operator-request-1' });

    expect((await client.delete(`/api/contacts/${b.body.id}`)).status).to.equal(204);
    expect((await client.post('/auth/logout')).status).to.equal(204);

    const again = await signIn(system.baseUrl, owner);
    const { items, pages } = await walk(again, '/api/audit', 3);
    expect(pages).to.be.greaterThan(3);
    const rows = await system.container.db('audit_log').where({ subject_user_id: ownerId }).orderBy('id', 'desc');
    expect(items.map((i) => i.id), 'every record once, newest first').to.deep.equal(rows.map((r: { id: string | number }) => String(r.id)));
    const actions = new Set(items.map((i) => i.action));
    for (const action of EXPECTED_ACTIONS.filter((x) => x !== 'account.deleted')) expect(actions, action).to.include(action);

    const skipped = items.filter((i) => i.action === 'reply.skipped').map((i) => i.metadata.reason);
    expect(skipped).to.include.members(['contact_inactive']);
    expect(items.find((i) => i.action === 'reply.failed')?.metadata).to.deep.equal({ reason: 'llm_failed' });
    const subscription = items.find((i) => i.action === 'user.subscription')!;
    expect(subscription).to.include({ actor_type: 'admin', actor_user_id: adminId, request_id: 'operator-request-1' });
    expect(items.find((i) => i.action === 'auth.sign_out')).to.include({ actor_type: 'user', actor_user_id: ownerId });
    // Who, when, and the request or job that did it.
    for (const item of items) {
      expect(Date.parse(item.occurred_at), item.action).to.not.be.NaN;
      expect(item.request_id ?? item.job_id, `${item.action} names its request or job`).to.be.a('string');
    }
    const received = items.find((i) => i.action === 'message.received')!;
    expect(received.actor_type).to.equal('system');
    expect(received.job_id).to.be.a('string');

    const text = JSON.stringify(await system.container.db('audit_log').where({ subject_user_id: ownerId }));
    for (const secret of secrets) expect(text, 'the audit rows').to.not.contain(secret);
  });

  it("never shows one user another user's records", async () => {
    const other = await signIn(system.baseUrl, uniqueEmail('other'));
    const { items } = await walk(other, '/api/audit', 50);
    expect(items.length).to.be.greaterThan(0);
    expect(items.every((i) => i.subject_user_id !== ownerId)).to.equal(true);
  });

  it('writes a contact and its audit record together: a refused duplicate leaves neither', async () => {
    const client = await signIn(system.baseUrl, uniqueEmail('dup'));
    const email = uniqueEmail('twice');
    const first = await client.post<{ id: string }>('/api/contacts', { email, name: 'Twice' });
    expect(first.status, first.text).to.equal(201);
    const again = await client.post('/api/contacts', { email: email.toUpperCase(), name: 'Twice again' });
    expect(again.status, again.text).to.equal(409);
    const me = await client.get<{ id: string }>('/api/me');
    const creates = await system.container.db('audit_log').where({ subject_user_id: me.body.id, action: 'contact.create' });
    expect(creates.map((r: { entity_id: string }) => r.entity_id)).to.deep.equal([first.body.id]);
    expect(creates[0].request_id).to.be.a('string');
    expect(creates[0].metadata).to.deep.equal({ is_active: false });
    expect(await system.container.db('contacts').where({ user_id: me.body.id }).count('* as n').first()).to.deep.equal({ n: '1' });
  });

  it('refuses a cursor it did not give out, and a limit over 200', async () => {
    const client = await signIn(system.baseUrl, owner);
    expect((await client.get<{ error: { code: string } }>('/api/audit?cursor=bm9wZQ')).body.error.code).to.equal('invalid_cursor');
    expect((await client.get('/api/audit?limit=201')).status).to.equal(400);
    expect((await new HttpClient(system.baseUrl).get('/api/audit')).status).to.equal(401);
  });

  it('shows operators every record (GET /admin/audit): 401 without a session, 403 for other users', async () => {
    expect((await new HttpClient(system.baseUrl).get<{ error: { code: string } }>('/admin/audit')).status).to.equal(401);
    const plain = await signIn(system.baseUrl, uniqueEmail('plain'));
    const refused = await plain.get<{ error: { code: string } }>('/admin/audit');
    expect(refused.status).to.equal(403);
    expect(refused.body.error.code).to.equal('forbidden');

    // The account goes; its trail (ids and reasons only) stays, ending with the deletion.
    const doomed = await signIn(system.baseUrl, owner);
    expect((await doomed.delete('/api/me')).status).to.equal(204);

    const operator = await signIn(system.baseUrl, admin);
    const all = await operator.get<Page>('/admin/audit?limit=200');
    expect(all.status).to.equal(200);
    expect(new Set(all.body.items.map((i) => i.subject_user_id)).size).to.be.greaterThan(2);
    const { items } = await walk(operator, `/admin/audit?user_id=${ownerId}`, 2);
    expect(items[0]).to.include({ action: 'account.deleted', actor_user_id: ownerId, entity_id: ownerId });
    expect(items.map((i) => i.action)).to.include.members(EXPECTED_ACTIONS);
    const text = JSON.stringify(await system.container.db('audit_log').where({ subject_user_id: ownerId }));
    for (const secret of secrets) expect(text, 'the audit rows after deletion').to.not.contain(secret);
    const signIns = await walk(operator, '/admin/audit?action=auth.sign_in', 200);
    expect(signIns.items.length).to.be.greaterThan(0);
    expect(signIns.items.every((i) => i.action === 'auth.sign_in')).to.equal(true);
    expect((await operator.get('/admin/audit?action=DROP%20TABLE')).status).to.equal(400);
  });
});
