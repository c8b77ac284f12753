import { expect } from 'chai';
import { signIn, waitFor } from '../support/http-client';
import { startTestSystem, type TestSystem } from '../support/system';
import { deliver, freshEmail, grant, rfc822, setFaults, type Grant } from './support';

interface LogLine {
  msg?: string;
  route?: string;
  outcome?: string;
  historyId?: string | number;
  pubsubMessageId?: string;
  component?: string;
}

/**
 * Gmail → Pub/Sub push → POST /webhooks/gmail. The product signs a user in (which starts its
 * users.watch on INBOX), mail arrives in the sandbox mailbox, and the sandbox pushes a
 * Google-signed notification to the running app, which queues a mailbox sync. Web only: the queued
 * jobs stay where the test can count them.
 */
describe('sandbox Pub/Sub push to the running app', () => {
  let system: TestSystem;

  before(async () => {
    system = await startTestSystem({ worker: false });
  });
  after(async () => {
    await system.close();
  });

  const syncQueue = () => system.container.queues.byName['mailbox-sync'];

  beforeEach(async () => {
    await syncQueue().obliterate({ force: true });
  });

  function logs(): LogLine[] {
    return system.logLines.flatMap((l) => l.split('\n')).filter((l) => l.trim().startsWith('{')).map((l) => JSON.parse(l) as LogLine);
  }

  /** The webhook's request log lines (which carry the push's outcome) for one history id. */
  function pushesFor(historyId: string): LogLine[] {
    return logs().filter((l) => l.msg === 'request' && l.route === '/webhooks/gmail' && String(l.historyId) === historyId);
  }

  async function queuedSyncs(userId: string): Promise<number> {
    const jobs = await syncQueue().getJobs(['waiting', 'delayed', 'prioritized', 'active']);
    return jobs.filter((j) => (j.data as { userId?: string }).userId === userId).length;
  }

  /** A user signed in to the product (its watch started) plus a grant of our own on the mailbox. */
  async function signedInUser(local: string): Promise<{ email: string; userId: string; own: Grant }> {
    const email = freshEmail(local);
    const client = await signIn(system.baseUrl, email);
    const me = await client.get<{ id: string; gmail: { status: string; watch_expires_at: string | null } }>('/api/me');
    expect(me.status).to.equal(200);
    expect(me.body.gmail.watch_expires_at, 'the product started its watch at sign-in').to.be.a('string');
    const own = await grant(system, email);
    // Sign-in queues a catch-up sync of its own (this system runs no worker): take it away, so that
    // what the queue holds from now on comes from pushes.
    for (const job of await syncQueue().getJobs(['waiting', 'delayed', 'prioritized'])) {
      if ((job.data as { userId?: string }).userId === me.body.id) await job.remove();
    }
    return { email, userId: me.body.id, own };
  }

  async function historyIdOf(g: Grant, id: string): Promise<string> {
    return (await g.gmail.users.messages.get({ userId: 'me', id, format: 'minimal' })).data.historyId!;
  }

  const settle = () => new Promise((r) => setTimeout(r, 400));

  it('delivers a signed push for new INBOX mail, which the webhook accepts and turns into a sync job', async () => {
    const { email, userId, own } = await signedInUser('push');
    expect(await queuedSyncs(userId)).to.equal(0);
    const mail = await deliver(system, email, { from: 'Bob <bob@example.org>', subject: 'ping', text: 'hello' });
    const historyId = await historyIdOf(own, mail.id);

    const [line] = await waitFor('the push to reach the webhook', async () => {
      const found = pushesFor(historyId);
      return found.length > 0 ? found : undefined;
    });
    expect(line!.outcome).to.equal('queued');
    expect(line!.pubsubMessageId).to.match(/^\d+$/);
    await waitFor('the sync job', async () => (await queuedSyncs(userId)) === 1);
    // the push token verified: nothing was refused
    expect(logs().filter((l) => l.msg === 'push refused')).to.deep.equal([]);
  });

  it('with {"drop_pushes": true} no push is delivered and no job is queued', async () => {
    const { email, userId, own } = await signedInUser('drop');
    await setFaults(system, email, { drop_pushes: true });
    const mail = await deliver(system, email, { from: 'bob@example.org', subject: 'lost', text: 'x' });
    const historyId = await historyIdOf(own, mail.id);
    await settle();
    expect(pushesFor(historyId)).to.deep.equal([]);
    expect(await queuedSyncs(userId)).to.equal(0);
    expect(logs().some((l) => l.msg === 'sandbox push dropped (fault)' && String(l.historyId) === historyId)).to.equal(true);

    // once cleared, pushes flow again
    await setFaults(system, email, {});
    const next = await deliver(system, email, { from: 'bob@example.org', subject: 'found', text: 'y' });
    const nextHistoryId = await historyIdOf(own, next.id);
    await waitFor('the push after clearing', async () => pushesFor(nextHistoryId).length === 1);
    expect(await queuedSyncs(userId)).to.equal(1);
  });

  it('with {"duplicate_pushes": 3} the webhook is called three times with the same Pub/Sub message id', async () => {
    const { email, userId, own } = await signedInUser('dup');
    await setFaults(system, email, { duplicate_pushes: 3 });
    const mail = await deliver(system, email, { from: 'bob@example.org', subject: 'thrice', text: 'x' });
    const historyId = await historyIdOf(own, mail.id);
    const lines = await waitFor('three pushes', async () => {
      const found = pushesFor(historyId);
      return found.length >= 3 ? found : undefined;
    });
    await settle();
    expect(pushesFor(historyId)).to.have.length(3);
    expect(new Set(lines.map((l) => l.pubsubMessageId)).size).to.equal(1);
    expect(lines.every((l) => l.outcome === 'queued')).to.equal(true);
    // sync jobs are deduplicated per user: three pushes, one queued sync
    expect(await queuedSyncs(userId)).to.equal(1);
  });

  it('follows the watch label filter: a message that is only SENT is not pushed to an INBOX watch', async () => {
    const { userId, own } = await signedInUser('filter');
    const { data } = await own.gmail.users.messages.send({ userId: 'me', requestBody: { raw: rfc822({ To: 'someone@example.org', Subject: 'outgoing' }, 'x') } });
    expect(data.labelIds).to.deep.equal(['SENT']);
    const historyId = await historyIdOf(own, data.id!);
    await settle();
    expect(pushesFor(historyId)).to.deep.equal([]);
    expect(await queuedSyncs(userId)).to.equal(0);
  });

  it('pushes nothing after users.stop', async () => {
    const { email, userId, own } = await signedInUser('stop');
    await own.gmail.users.stop({ userId: 'me' });
    const mail = await deliver(system, email, { from: 'bob@example.org', subject: 'after stop', text: 'x' });
    const historyId = await historyIdOf(own, mail.id);
    await settle();
    expect(pushesFor(historyId)).to.deep.equal([]);
    expect(await queuedSyncs(userId)).to.equal(0);
  });
});
