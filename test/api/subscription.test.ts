import { expect } from 'chai';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { HttpClient, signIn, uniqueEmail } from '../support/http-client';
import { startTestSystem, type TestSystem } from '../support/system';
import { TEST_SECRETS, testDatabaseUrl } from '../support/config';
import { deliverRaw, history, sentItems, waitForHistory, waitForIdle } from '../support/mail-loop';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..', '..');

interface Me {
  id: string;
  is_subscription_active: boolean;
}
interface ErrorBody {
  error: { code: string; details: Array<{ path?: string }> };
}

function mail(from: string, to: string, subject: string): Buffer {
  const id = `<${Math.random().toString(36).slice(2)}@contact.example>`;
  return Buffer.from([`From: ${from}`, `To: ${to}`, `Subject: ${subject}`, `Message-ID: ${id}`, `Date: ${new Date().toUTCString()}`, 'Content-Type: text/plain; charset=utf-8', '', 'Are you there?', ''].join('\r\n'));
}

/** `npm run subscription -- <email> on|off`, from the source, against the run's database. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, ...TEST_SECRETS, NODE_ENV: 'test', DATABASE_URL: testDatabaseUrl(), LOG_LEVEL: 'silent' };
  return run(path.join(ROOT, 'node_modules', '.bin', 'tsx'), [path.join(ROOT, 'src', 'main', 'subscription.ts'), ...args], { env, cwd: ROOT }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
}

describe('subscription: the admin endpoint, the CLI, and what it changes', function () {
  this.timeout(60000);
  let system: TestSystem;
  const operator = uniqueEmail('operator');
  let admin: HttpClient;

  before(async () => {
    system = await startTestSystem({ overrides: { ADMIN_EMAILS: operator } });
    admin = await signIn(system.baseUrl, operator);
  });
  after(async () => {
    await system.close();
  });

  const put = (client: HttpClient, email: string, body: unknown) => client.request<ErrorBody & { email: string; is_subscription_active: boolean; id: string }>('PUT', `/admin/users/${encodeURIComponent(email)}/subscription`, { json: body });
  const audited = (userId: string) => system.container.db('audit_log').where({ subject_user_id: userId, action: 'user.subscription' }).orderBy('id');

  it('PUT /admin/users/:email/subscription: anonymous 401, a signed-in user who is not an operator 403', async () => {
    const email = uniqueEmail('subject');
    const user = await signIn(system.baseUrl, email);
    const anonymous = await put(new HttpClient(system.baseUrl), email, { is_subscription_active: false });
    expect(anonymous.status).to.equal(401);
    expect(anonymous.body.error.code).to.equal('unauthenticated');
    const self = await put(user, email, { is_subscription_active: false });
    expect(self.status).to.equal(403);
    expect(self.body.error.code).to.equal('forbidden');
    expect((await user.get<Me>('/api/me')).body.is_subscription_active).to.equal(true);
  });

  it('lets an operator turn it off and on, audited, and /api/me shows it', async () => {
    const email = uniqueEmail('subject');
    const user = await signIn(system.baseUrl, email);
    const me = (await user.get<Me>('/api/me')).body;
    expect(me.is_subscription_active).to.equal(true); // the sandbox starts new users subscribed

    const off = await put(admin, email.toUpperCase(), { is_subscription_active: false });
    expect(off.status).to.equal(200);
    expect(off.body).to.deep.equal({ id: me.id, email, is_subscription_active: false });
    expect((await user.get<Me>('/api/me')).body.is_subscription_active).to.equal(false);

    expect((await put(admin, email, { is_subscription_active: true })).body.is_subscription_active).to.equal(true);
    expect((await user.get<Me>('/api/me')).body.is_subscription_active).to.equal(true);

    const operatorId = (await admin.get<Me>('/api/me')).body.id;
    const rows = await audited(me.id);
    expect(rows.map((r: { metadata: unknown }) => r.metadata)).to.deep.equal([
      { is_subscription_active: false, via: 'api' },
      { is_subscription_active: true, via: 'api' },
    ]);
    for (const row of rows) expect(row).to.include({ actor_type: 'admin', actor_user_id: operatorId, entity_type: 'user', entity_id: me.id });
    expect(rows[0].request_id).to.equal(off.headers.get('x-request-id'));
  });

  it('refuses an unknown user (404), a bad address and a bad body (400)', async () => {
    const unknown = await put(admin, uniqueEmail('nobody'), { is_subscription_active: true });
    expect(unknown.status).to.equal(404);
    expect(unknown.body.error.code).to.equal('not_found');
    for (const [email, body, field] of [
      ['not-an-email', { is_subscription_active: true }, 'params.email'],
      [operator, {}, 'body.is_subscription_active'],
      [operator, { is_subscription_active: 'yes' }, 'body.is_subscription_active'],
      [operator, { is_subscription_active: true, plan: 'gold' }, 'body.plan'],
    ] as const) {
      const res = await put(admin, email, body);
      expect(res.status, JSON.stringify(body)).to.equal(400);
      expect(res.body.error.code).to.equal('validation_failed');
      expect(res.body.error.details.map((d) => d.path)).to.include(field);
    }
  });

  it('sets it from the command line: npm run subscription -- <email> on|off', async () => {
    const email = uniqueEmail('cli');
    const user = await signIn(system.baseUrl, email);
    const off = await cli(email.toUpperCase(), 'off');
    expect(off.code, off.stderr).to.equal(0);
    expect(off.stdout).to.match(new RegExp(`^${email.replace(/\./g, '\\.')}: subscription off \\(cli-[0-9a-f-]{36}\\)\\n$`));
    expect((await user.get<Me>('/api/me')).body.is_subscription_active).to.equal(false);
    expect((await cli(email, 'on')).code).to.equal(0);
    const me = (await user.get<Me>('/api/me')).body;
    expect(me.is_subscription_active).to.equal(true);
    const rows = await audited(me.id);
    expect(rows.map((r: { metadata: unknown }) => r.metadata)).to.deep.equal([
      { is_subscription_active: false, via: 'cli' },
      { is_subscription_active: true, via: 'cli' },
    ]);
    expect(rows.every((r: { actor_type: string; request_id: string }) => r.actor_type === 'admin' && r.request_id.startsWith('cli-'))).to.equal(true);

    const missing = await cli(uniqueEmail('nobody'), 'on');
    expect(missing.code).to.equal(1);
    expect(missing.stderr).to.contain('no user');
    for (const args of [[], [email], [email, 'maybe'], ['not-an-email', 'on'], [email, 'on', 'extra']]) {
      const usage = await cli(...args);
      expect(usage.code, args.join(' ')).to.equal(64);
      expect(usage.stderr).to.contain('usage: npm run subscription -- <email> on|off');
    }
  });

  it('without a subscription incoming mail is recorded and not answered; with it again, answered', async () => {
    const email = uniqueEmail('loop');
    const user = await signIn(system.baseUrl, email);
    const contact = (await user.post<{ id: string; email: string }>('/api/contacts', { email: uniqueEmail('writer'), name: 'Writer', description_ai: 'Answer briefly.', is_active: true })).body;
    expect((await put(admin, email, { is_subscription_active: false })).status).to.equal(200);

    await deliverRaw(system.baseUrl, email, mail(contact.email, email, 'While unsubscribed'));
    await waitForHistory(user, contact.id, { received: 1, sent: 0 });
    await waitForIdle(system);
    expect((await history(user, contact.id)).map((m) => [m.message_direction, m.subject])).to.deep.equal([['received', 'While unsubscribed']]);
    expect(await sentItems(system.baseUrl, email)).to.have.length(0);
    const userId = (await user.get<Me>('/api/me')).body.id;
    const skipped = await system.container.db('audit_log').where({ subject_user_id: userId, action: 'reply.skipped' }).pluck('metadata');
    expect(skipped).to.deep.include({ reason: 'subscription_inactive' });
    const conversation = (await user.get<{ items: Array<{ contact: { id: string }; last_message: { subject: string } }> }>('/api/conversations')).body.items[0]!;
    expect(conversation.contact.id).to.equal(contact.id);
    expect(conversation.last_message.subject).to.equal('While unsubscribed');

    expect((await put(admin, email, { is_subscription_active: true })).status).to.equal(200);
    await deliverRaw(system.baseUrl, email, mail(contact.email, email, 'Subscribed again'));
    const items = await waitForHistory(user, contact.id, { received: 2, sent: 1 });
    expect(items.map((m) => m.subject)).to.deep.equal(['Re: Subscribed again', 'Subscribed again', 'While unsubscribed']);
    await waitForIdle(system);
    expect(await sentItems(system.baseUrl, email)).to.have.length(1);
  });
});
