import { expect } from 'chai';
import { OAuth2Client } from 'google-auth-library';
import { signIn, uniqueEmail, HttpClient } from '../support/http-client';
import { startTestSystem, type TestSystem } from '../support/system';
import { deliverRaw } from '../support/mail-loop';
import { koi8rMail } from '../support/mail-fixtures';

/** DELETE /api/me: Google's side stopped and revoked, the data and queued work gone, an audit trail without personal data left. */
describe('account deletion', function () {
  this.timeout(30000);
  let system: TestSystem;

  before(async () => {
    // No worker: what the account queued stays in the queues until the deletion removes it.
    system = await startTestSystem({ worker: false });
  });
  after(async () => {
    await system.close();
  });

  async function quota(email: string): Promise<Record<string, number>> {
    const res = await fetch(`${system.baseUrl}/sandbox/gmail/mailboxes/${encodeURIComponent(email)}/quota`);
    return ((await res.json()) as { calls_by_method: Record<string, number> }).calls_by_method;
  }

  it('stops the watch, revokes the grant, removes data and queued jobs, and keeps an audit record without personal data', async () => {
    const email = uniqueEmail('leaving');
    const client = await signIn(system.baseUrl, email);
    const userId = (await client.get<{ id: string }>('/api/me')).body.id;
    const contact = (await client.post<{ id: string; email: string }>('/api/contacts', { email: uniqueEmail('c'), name: 'Contact', is_active: true })).body;
    await deliverRaw(system.baseUrl, email, koi8rMail(contact.email, email).raw);
    await system.container.services.sync.syncMailbox(userId, {});
    const reply = await system.container.db('replies').where({ user_id: userId }).first();
    expect(reply?.status).to.equal('pending');
    const refreshToken = (await system.container.connections.readGrant(userId))!.refreshToken!;
    const { queues } = system.container;
    expect(await queues.byName.reply.getJob(`reply-${reply.id}`)).to.not.equal(undefined);

    const res = await client.delete('/api/me');
    expect(res.status).to.equal(204);

    expect((await quota(email)).stop, 'users.stop was called').to.equal(1);
    const google = new OAuth2Client({ clientId: system.container.config.google.clientId, clientSecret: system.container.config.google.clientSecret, endpoints: { oauth2TokenUrl: system.container.config.google.tokenUrl } });
    let refreshError: unknown;
    google.setCredentials({ refresh_token: refreshToken });
    await google.getAccessToken().catch((err: unknown) => (refreshError = err));
    expect((refreshError as { response?: { data?: { error?: string } } }).response?.data?.error, 'the grant is revoked').to.equal('invalid_grant');

    const { db } = system.container;
    for (const table of ['contacts', 'message_history', 'active_conversations', 'replies']) {
      expect(await db(table).where({ user_id: userId }), table).to.have.length(0);
    }
    expect(await db('users').where({ id: userId })).to.have.length(0);
    expect(await db('gmail_connections').where({ user_id: userId })).to.have.length(0);
    expect(await queues.byName.reply.getJob(`reply-${reply.id}`), 'the queued reply').to.equal(undefined);
    const syncs = await queues.byName['mailbox-sync'].getJobs(['waiting', 'delayed', 'prioritized']);
    expect(syncs.filter((j) => (j.data as { userId: string }).userId === userId), 'queued syncs').to.have.length(0);

    const audit = await db('audit_log').where({ action: 'account.deleted', entity_id: userId });
    expect(audit).to.have.length(1);
    const record = JSON.stringify(audit[0]);
    expect(record).to.not.contain(email);
    expect(record).to.not.contain(contact.email);

    // The session is gone, and signing in again starts a new, empty account.
    expect((await client.get('/api/me')).status).to.equal(401);
    const again = await signIn(system.baseUrl, email);
    const me = await again.get<{ id: string }>('/api/me');
    expect(me.body.id).to.not.equal(userId);
    expect((await again.get<{ items: unknown[] }>('/api/contacts')).body.items).to.have.length(0);
  });

  it('deletes once when the request comes twice at the same time: one account.deleted record', async () => {
    const email = uniqueEmail('twice');
    const client = await signIn(system.baseUrl, email);
    const userId = (await client.get<{ id: string }>('/api/me')).body.id;
    await client.post('/api/contacts', { email: uniqueEmail('c'), name: 'Contact' });
    const answers = await Promise.all([client.delete('/api/me'), client.delete('/api/me')]);
    // The second is answered 204 (gone, as asked) or 401 (the session went with the account).
    expect(answers.map((r) => r.status)).to.include(204);
    for (const r of answers) expect(r.status).to.be.oneOf([204, 401]);
    const records = await system.container.db('audit_log').where({ subject_user_id: userId, action: 'account.deleted' });
    expect(records).to.have.length(1);
    expect(await system.container.db('users').where({ id: userId })).to.deep.equal([]);
  });

  it('answers a session whose account was deleted elsewhere with 401', async () => {
    const email = uniqueEmail('twice');
    const first = await signIn(system.baseUrl, email);
    const second = await signIn(system.baseUrl, email);
    expect((await first.delete('/api/me')).status).to.equal(204);
    const res = await second.get<{ error: { code: string } }>('/api/me');
    expect(res.status).to.equal(401);
    expect(res.body.error.code).to.equal('unauthenticated');
  });

  it('needs a session', async () => {
    expect((await new HttpClient(system.baseUrl).delete('/api/me')).status).to.equal(401);
  });
});
