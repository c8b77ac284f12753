import { expect } from 'chai';
import type { PubSub } from '@google-cloud/pubsub';
import { HttpClient, signIn, uniqueEmail, waitFor } from '../support/http-client';
import { startTestSystem, type TestSystem } from '../support/system';
import { history, sentItems, setFaults, waitForHistory, waitForIdle } from '../support/mail-loop';
import { gmailNotification, guardLoopbackOnly, localPubsub, pause, type LoopbackGuard } from './support';

const SUBSCRIPTION = 'projects/sandbox-project/subscriptions/gmail-pull';

interface LogLine {
  msg?: string;
  outcome?: string;
  pubsubMessageId?: string;
  route?: string | null;
  reason?: string;
  err?: { name?: string };
}

interface Contact {
  id: string;
  email: string;
}

/**
 * Gmail notifications pulled from a Pub/Sub subscription: web, worker and sandbox in one process
 * with PUBSUB_SUBSCRIPTION set, so the sandbox publishes Gmail's notifications to its gRPC
 * Pub/Sub (and pushes nothing), and the worker pulls them with @google-cloud/pubsub.
 */
describe('Pub/Sub pull: the worker takes Gmail notifications from a subscription', function () {
  this.timeout(60000);
  let system: TestSystem;
  let guard: LoopbackGuard;
  let savedEnv: Record<string, string | undefined>;
  let user: string;
  let client: HttpClient;
  let publisher: PubSub;

  before(async () => {
    // Without the switch that stops Google's libraries looking for the cloud metadata server,
    // nothing may still try to leave loopback: the guard refuses and records any such attempt.
    savedEnv = { METADATA_SERVER_DETECTION: process.env.METADATA_SERVER_DETECTION, NO_GCE_CHECK: process.env.NO_GCE_CHECK };
    delete process.env.METADATA_SERVER_DETECTION;
    delete process.env.NO_GCE_CHECK;
    guard = guardLoopbackOnly();
    system = await startTestSystem({ overrides: { PUBSUB_SUBSCRIPTION: SUBSCRIPTION, SANDBOX_PUBSUB_PORT: '0', RECONCILE_INTERVAL_SECONDS: '3600' } });
    publisher = localPubsub(system.sandbox!.pubsub!.port!, 'sandbox-project');
    user = uniqueEmail('pull');
    client = await signIn(system.baseUrl, user);
    await waitForIdle(system);
  });
  after(async () => {
    await publisher?.close();
    await system?.close();
    guard?.restore();
    for (const [k, v] of Object.entries(savedEnv)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  function logs(): LogLine[] {
    return system.logLines.flatMap((l) => l.split('\n')).filter((l) => l.trim().startsWith('{')).map((l) => JSON.parse(l) as LogLine);
  }
  const lines = (msg: string, pubsubMessageId?: string) => logs().filter((l) => l.msg === msg && (pubsubMessageId === undefined || l.pubsubMessageId === pubsubMessageId));

  async function pushesCounted(): Promise<Record<string, number>> {
    const metric = await system.container.metrics.pushes.get();
    return Object.fromEntries(metric.values.map((v) => [`${v.labels.source}:${v.labels.outcome}`, v.value]));
  }

  async function newContact(): Promise<Contact> {
    const res = await client.post<Contact>('/api/contacts', { email: uniqueEmail('contact'), name: 'Anna', description_ai: 'Supplier. Confirm dates politely.', is_active: true });
    expect(res.status).to.equal(201);
    return res.body;
  }

  async function deliver(from: string, subject: string): Promise<{ id: string; thread_id: string }> {
    const res = await new HttpClient(system.baseUrl).post<{ id: string; thread_id: string }>(`/sandbox/gmail/mailboxes/${encodeURIComponent(user)}/incoming`, { from, subject, text: 'When will the parcel arrive?' });
    expect(res.status, res.text).to.be.oneOf([200, 201]);
    return res.body;
  }

  async function repliesIn(threadId: string) {
    return (await sentItems(system.baseUrl, user)).filter((s) => s.thread_id === threadId);
  }

  const stats = () => system.sandbox!.pubsub!.broker.stats(SUBSCRIPTION);

  it('answers a mail notified only through the pull subscription; the push webhook is never called', async () => {
    const contact = await newContact();
    const mail = await deliver(`Anna <${contact.email}>`, 'Delivery');
    const items = await waitForHistory(client, contact.id, { received: 1, sent: 1 });
    expect(items.map((m) => m.message_direction).sort()).to.deep.equal(['received', 'sent']);
    await waitForIdle(system);
    expect(await repliesIn(mail.thread_id)).to.have.length(1);

    const pulled = lines('pull');
    expect(pulled.some((l) => l.outcome === 'queued')).to.equal(true);
    await waitFor('the notification to be acknowledged', async () => stats().outstanding === 0 && stats().backlog === 0);
    expect(stats().acknowledged).to.be.at.least(1);
    // push: no webhook request, no delivery attempt by the sandbox, nothing counted
    expect(logs().filter((l) => l.route === '/webhooks/gmail')).to.deep.equal([]);
    expect(logs().filter((l) => (l.msg ?? '').startsWith('sandbox push'))).to.deep.equal([]);
    const counted = await pushesCounted();
    expect(counted['pull:queued']).to.be.at.least(1);
    expect(Object.keys(counted).filter((k) => k.startsWith('push:'))).to.deep.equal([]);
  });

  it('with {"duplicate_pushes": 3} the same Pub/Sub message is pulled three times and answered once', async () => {
    const contact = await newContact();
    await setFaults(system.baseUrl, user, { duplicate_pushes: 3 });
    try {
      const before = stats().deliveries;
      const mail = await deliver(contact.email, 'Thrice');
      await waitForHistory(client, contact.id, { received: 1, sent: 1 });
      await waitFor('three deliveries', async () => stats().deliveries - before >= 3);
      await waitForIdle(system);
      await pause(300);
      expect(await repliesIn(mail.thread_id)).to.have.length(1);
      const ids = Object.entries(stats().deliveriesByMessage).filter(([, n]) => n === 3).map(([id]) => id);
      expect(ids.length).to.be.at.least(1);
      expect(lines('pull', ids.at(-1))).to.have.length(3);
    } finally {
      await setFaults(system.baseUrl, user, {});
    }
  });

  it('with {"drop_pushes": true} nothing is pulled and nothing answered until a later notification', async () => {
    const contact = await newContact();
    await setFaults(system.baseUrl, user, { drop_pushes: true });
    const before = stats().deliveries;
    await deliver(contact.email, 'Lost notification');
    await pause(1500);
    await waitForIdle(system);
    expect(stats().deliveries).to.equal(before);
    expect((await history(client, contact.id)).length).to.equal(0);
    expect(logs().some((l) => l.msg === 'sandbox pull notification dropped (fault)')).to.equal(true);

    await setFaults(system.baseUrl, user, {});
    await deliver(contact.email, 'Found');
    // the sync runs from the cursor: the mail whose notification was lost is answered too
    await waitForHistory(client, contact.id, { received: 2, sent: 2 });
  });

  it('acknowledges only after the sync is queued: a failed enqueue is nacked, redelivered, and queued once Redis answers again', async () => {
    const contact = await newContact();
    const syncQueue = system.container.queues.byName['mailbox-sync'];
    // The queue's own ioredis connection (the one BullMQ adds jobs with).
    const redis = (await syncQueue.getBackend().connection.client) as unknown as { disconnect(): void; connect(): Promise<void> };
    const failuresBefore = (await pushesCounted())['pull:failed'] ?? 0;
    redis.disconnect(); // the queue's own connection: every command now fails with "Connection is closed."
    let reconnected = false;
    try {
      const mail = await deliver(contact.email, 'While Redis is away');
      await waitFor('two failed attempts', async () => ((await pushesCounted())['pull:failed'] ?? 0) - failuresBefore >= 2, 10_000);
      const failed = lines('pulled notification not queued; nacked for redelivery');
      const messageId = failed.at(-1)!.pubsubMessageId!;
      expect(failed.filter((l) => l.pubsubMessageId === messageId).length).to.be.at.least(2);
      expect(lines('pull', messageId)).to.deep.equal([]); // never acknowledged as queued
      expect(stats().deliveriesByMessage[messageId]).to.be.at.least(2);
      expect((await history(client, contact.id)).length).to.equal(0);

      await redis.connect();
      reconnected = true;
      await waitForHistory(client, contact.id, { received: 1, sent: 1 }, 30_000);
      const queued = lines('pull', messageId);
      expect(queued.map((l) => l.outcome)).to.deep.equal(['queued']);
      await waitFor('the notification to be acknowledged', async () => stats().outstanding === 0 && stats().backlog === 0);
      await waitForIdle(system);
      expect(await repliesIn(mail.thread_id)).to.have.length(1);
    } finally {
      if (!reconnected) await redis.connect().catch(() => undefined);
    }
  });

  it('acknowledges an unreadable message (logged, not redelivered) and a notification for an unknown mailbox', async () => {
    const topic = publisher.topic(system.container.config.google.pubsubTopic);
    const garbage = await topic.publishMessage({ data: Buffer.from('not json at all') });
    const noHistory = await topic.publishMessage({ data: Buffer.from(JSON.stringify({ emailAddress: user })) });
    const stranger = await topic.publishMessage({ data: gmailNotification(uniqueEmail('nobody'), 12345) });
    await waitFor('the three messages to be handled', async () => stats().outstanding === 0 && stats().backlog === 0 && lines('pull', stranger).length === 1);
    await pause(1500); // longer than the subscription's first retry backoff
    for (const id of [garbage, noHistory]) {
      expect(lines('pulled notification acknowledged without processing', id)).to.have.length(1);
      expect(stats().deliveriesByMessage[id]).to.equal(1);
    }
    expect(lines('pulled notification acknowledged without processing', garbage)[0]!.reason).to.equal('message.data is not base64 JSON');
    expect(lines('pull', stranger).map((l) => l.outcome)).to.deep.equal(['unknown_mailbox']);
    expect(stats().deliveriesByMessage[stranger]).to.equal(1);
    expect((await pushesCounted())['pull:unreadable']).to.equal(2);
  });

  it('never tried to reach an address outside loopback', () => {
    expect(guard.hosts.length).to.be.greaterThan(0);
    expect(guard.refused).to.deep.equal([]);
  });
});
