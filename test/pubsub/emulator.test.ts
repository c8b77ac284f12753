import { expect } from 'chai';
import type { PubSub } from '@google-cloud/pubsub';
import { HttpClient, signIn, uniqueEmail, waitFor } from '../support/http-client';
import { startTestSystem, type TestSystem } from '../support/system';
import { sentItems, setFaults, waitForHistory, waitForIdle } from '../support/mail-loop';
import { grant } from '../sandbox/support';
import { findEmulator, startEmulator, type RunningEmulator } from './google-emulator';
import { gmailNotification, localPubsub, pause } from './support';

const PROJECT = 'emulator-project';
const TOPIC = `projects/${PROJECT}/topics/gmail`;
const SUBSCRIPTION = `projects/${PROJECT}/subscriptions/gmail-pull`;

interface LogLine {
  msg?: string;
  outcome?: string;
  pubsubMessageId?: string;
}

/**
 * The worker's pull listener against Google's own Pub/Sub emulator instead of the sandbox's:
 * the topic and subscription are made with @google-cloud/pubsub, the test publishes what Gmail
 * would, and the mail is answered. Gmail itself is still the sandbox's, whose notifications are
 * switched off for the mailbox (drop_pushes) so that only the emulator's can trigger the sync.
 */
describe("Pub/Sub pull against Google's emulator", function () {
  this.timeout(90000);
  let emulator: RunningEmulator | undefined;
  let admin: PubSub | undefined;
  let system: TestSystem | undefined;

  before(async function () {
    const found = findEmulator();
    if ('missing' in found) {
      // The only reason to skip: the machine has no emulator (it is an optional Debian package
      // needing Java); the sandbox's gRPC Pub/Sub tests cover the same listener without it.
      console.log(`      skipped: ${found.missing}`);
      this.skip();
    }
    emulator = await startEmulator(found.bin);
    admin = localPubsub(emulator.port, PROJECT);
    const [topic] = await admin.createTopic(TOPIC);
    await topic.createSubscription(SUBSCRIPTION, { ackDeadlineSeconds: 10 });
    system = await startTestSystem({
      overrides: { PUBSUB_SUBSCRIPTION: SUBSCRIPTION, PUBSUB_API_ENDPOINT: `127.0.0.1:${emulator.port}`, SANDBOX_PUBSUB_PORT: '0', RECONCILE_INTERVAL_SECONDS: '3600' },
    });
  });
  after(async () => {
    await system?.close();
    await admin?.close();
    await emulator?.stop();
  });

  function lines(msg: string, pubsubMessageId: string): LogLine[] {
    return system!.logLines
      .flatMap((l) => l.split('\n'))
      .filter((l) => l.trim().startsWith('{'))
      .map((l) => JSON.parse(l) as LogLine)
      .filter((l) => l.msg === msg && l.pubsubMessageId === pubsubMessageId);
  }

  it('answers a mail whose Gmail notification came through the emulator; acknowledged messages do not come back', async () => {
    const user = uniqueEmail('emu');
    const client = await signIn(system!.baseUrl, user);
    await waitForIdle(system!);
    await setFaults(system!.baseUrl, user, { drop_pushes: true });
    const contact = (await client.post<{ id: string; email: string }>('/api/contacts', { email: uniqueEmail('contact'), name: 'Anna', description_ai: 'Be brief.', is_active: true })).body;
    const mail = (await new HttpClient(system!.baseUrl).post<{ id: string; thread_id: string }>(`/sandbox/gmail/mailboxes/${encodeURIComponent(user)}/incoming`, { from: contact.email, subject: 'Via the emulator', text: 'Hello?' })).body;
    await pause(500);
    await waitForIdle(system!);
    expect((await sentItems(system!.baseUrl, user)).filter((s) => s.thread_id === mail.thread_id)).to.have.length(0);

    // what Gmail publishes: {emailAddress, historyId} of the change
    const own = await grant(system!, user);
    const { historyId } = (await own.gmail.users.messages.get({ userId: 'me', id: mail.id, format: 'minimal' })).data;
    const topic = admin!.topic(TOPIC);
    const id = await topic.publishMessage({ data: gmailNotification(user, historyId!) });
    await waitForHistory(client, contact.id, { received: 1, sent: 1 }, 30_000);
    expect(lines('pull', id).map((l) => l.outcome)).to.deep.equal(['queued']);
    await waitForIdle(system!);
    expect((await sentItems(system!.baseUrl, user)).filter((s) => s.thread_id === mail.thread_id)).to.have.length(1);

    const garbage = await topic.publishMessage({ data: Buffer.from('not a Gmail notification') });
    await waitFor('the unreadable message', async () => lines('pulled notification acknowledged without processing', garbage).length === 1);
    await pause(1500); // a nack would bring both back at once
    expect(lines('pull', id)).to.have.length(1);
    expect(lines('pulled notification acknowledged without processing', garbage)).to.have.length(1);
  });
});
