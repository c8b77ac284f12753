import { expect } from 'chai';
import { status } from '@grpc/grpc-js';
import { v1, type PubSub, type Subscription } from '@google-cloud/pubsub';
import { createLogger } from '../../src/observability/logger';
import { systemClock } from '../../src/sandbox/clock';
import { PubsubBroker } from '../../src/sandbox/pubsub-grpc/broker';
import { createPubsubGrpcServer, type PubsubGrpcServer } from '../../src/sandbox/pubsub-grpc/server';
import { grpcCode, localPubsub, pause, record, waitForCount } from './support';

const PROJECT = 'sandbox-project';
let names = 0;
const unique = (kind: 'topics' | 'subscriptions') => `projects/${PROJECT}/${kind}/t${process.pid}-${(names += 1)}`;

/**
 * The sandbox's gRPC Pub/Sub driven by the official @google-cloud/pubsub client, as the worker and
 * an operator use it: topics and subscriptions, publish, StreamingPull with ack deadlines, ack,
 * nack, deadline expiry and redelivery (at least once).
 */
describe('sandbox gRPC Pub/Sub through @google-cloud/pubsub', function () {
  this.timeout(20000);
  let broker: PubsubBroker;
  let server: PubsubGrpcServer;
  let port: number;
  let pubsub: PubSub;
  const subscribers: Subscription[] = [];

  before(async () => {
    broker = new PubsubBroker(systemClock);
    server = createPubsubGrpcServer(broker, createLogger({ level: 'silent', pretty: false }));
    port = await server.listen(0);
    pubsub = localPubsub(port, PROJECT);
  });
  afterEach(async () => {
    await Promise.all(subscribers.splice(0).map((s) => s.close()));
  });
  after(async () => {
    await pubsub.close();
    await server.close();
    broker.close();
  });

  async function topicWithSubscription(options: Record<string, unknown> = {}) {
    const [topic] = await pubsub.createTopic(unique('topics'));
    const [subscription] = await topic.createSubscription(unique('subscriptions'), options);
    return { topic, subscriptionName: subscription.name };
  }

  function subscriber(name: string): Subscription {
    const subscription = pubsub.subscription(name);
    subscribers.push(subscription);
    return subscription;
  }

  it('listens on 127.0.0.1 only', async () => {
    const other = createPubsubGrpcServer(broker, createLogger({ level: 'silent', pretty: false }));
    const otherPort = await other.listen(0);
    try {
      const net = await import('node:net');
      const reachable = (host: string) =>
        new Promise<boolean>((resolve) => {
          const s = net.connect(otherPort, host);
          s.once('connect', () => (s.destroy(), resolve(true)));
          s.once('error', () => resolve(false));
        });
      expect(await reachable('127.0.0.1')).to.equal(true);
      // ::1 is loopback too, but the server binds the IPv4 loopback address alone
      expect(await reachable('::1')).to.equal(false);
    } finally {
      await other.close();
    }
  });

  it('creates and reads topics and subscriptions, with the status codes the client expects', async () => {
    const topicName = unique('topics');
    const [topic] = await pubsub.createTopic(topicName);
    expect(topic.name).to.equal(topicName);
    expect((await topic.exists())[0]).to.equal(true);
    expect((await pubsub.topic(unique('topics')).exists())[0]).to.equal(false);
    expect(await grpcCode(pubsub.createTopic(topicName))).to.equal(status.ALREADY_EXISTS);
    expect(await grpcCode(pubsub.createTopic('projects/x/topics/a'))).to.equal(status.INVALID_ARGUMENT); // too short an id

    const subscriptionName = unique('subscriptions');
    const [subscription] = await topic.createSubscription(subscriptionName, { ackDeadlineSeconds: 20, retryPolicy: { minimumBackoff: { seconds: 2 }, maximumBackoff: { seconds: 30 } } });
    const [metadata] = await subscription.getMetadata();
    expect(metadata.name).to.equal(subscriptionName);
    expect(metadata.topic).to.equal(topicName);
    expect(metadata.ackDeadlineSeconds).to.equal(20);
    expect(Number(metadata.retryPolicy?.minimumBackoff?.seconds)).to.equal(2);
    expect(Number(metadata.retryPolicy?.maximumBackoff?.seconds)).to.equal(30);
    expect((await pubsub.subscription(unique('subscriptions')).exists())[0]).to.equal(false);
    expect(await grpcCode(topic.createSubscription(subscriptionName))).to.equal(status.ALREADY_EXISTS);
    expect(await grpcCode(pubsub.topic(unique('topics')).createSubscription(unique('subscriptions')))).to.equal(status.NOT_FOUND);
    expect(await grpcCode(topic.createSubscription(unique('subscriptions'), { ackDeadlineSeconds: 5 }))).to.equal(status.INVALID_ARGUMENT);
    // what the sandbox does not model is refused, not ignored
    expect(await grpcCode(topic.createSubscription(unique('subscriptions'), { enableExactlyOnceDelivery: true }))).to.equal(status.INVALID_ARGUMENT);
    expect(await grpcCode(topic.publishMessage({ data: Buffer.alloc(0) }))).to.equal(status.INVALID_ARGUMENT);
  });

  it('delivers a published message with its data, attributes, id and publish time; an acked message is not delivered again', async () => {
    const { topic, subscriptionName } = await topicWithSubscription();
    const before = Date.now();
    const id = await topic.publishMessage({ data: Buffer.from('hello'), attributes: { kind: 'test' } });
    expect(id).to.match(/^\d+$/);
    const received = record(subscriber(subscriptionName), (m) => m.ack());
    const [first] = await waitForCount(received, 1, 'the delivery');
    expect(first!.id).to.equal(id);
    expect(first!.data).to.equal('hello');
    expect(first!.attributes).to.deep.equal({ kind: 'test' });
    expect(first!.publishTime.getTime()).to.be.within(before - 1000, Date.now());
    await pause(600);
    expect(received).to.have.length(1);
    const stats = broker.stats(subscriptionName);
    expect(stats).to.include({ outstanding: 0, backlog: 0, acknowledged: 1 });
    expect(stats.deliveriesByMessage[id]).to.equal(1);
  });

  it('gives each subscription of a topic its own copy; a subscription gets only what was published after it existed', async () => {
    const [topic] = await pubsub.createTopic(unique('topics'));
    const early = await topic.publishMessage({ data: Buffer.from('before any subscription') });
    const [a] = await topic.createSubscription(unique('subscriptions'));
    const [b] = await topic.createSubscription(unique('subscriptions'));
    // published before anyone pulls: kept until a subscriber comes
    const id = await topic.publishMessage({ data: Buffer.from('for both') });
    const gotA = record(subscriber(a.name), (m) => m.ack());
    const gotB = record(subscriber(b.name), (m) => m.ack());
    await waitForCount(gotA, 1, 'subscription a');
    await waitForCount(gotB, 1, 'subscription b');
    await pause(300);
    expect(gotA.map((r) => r.id)).to.deep.equal([id]);
    expect(gotB.map((r) => r.id)).to.deep.equal([id]);
    expect(early).to.not.equal(id);
  });

  it('redelivers a nacked message at once, under the same message id and a new ack id', async () => {
    const { topic, subscriptionName } = await topicWithSubscription();
    const id = await topic.publishMessage({ data: Buffer.from('again') });
    const received = record(subscriber(subscriptionName), (m, i) => (i === 0 ? m.nack() : m.ack()));
    const [first, second] = await waitForCount(received, 2, 'the redelivery');
    expect(first!.id).to.equal(id);
    expect(second!.id).to.equal(id);
    expect(second!.ackId).to.not.equal(first!.ackId);
    await pause(300);
    expect(received).to.have.length(2);
    expect(broker.stats(subscriptionName)).to.include({ outstanding: 0, backlog: 0, acknowledged: 1 });
  });

  it("holds a nacked message back for the subscription's retry-policy backoff", async () => {
    const { topic, subscriptionName } = await topicWithSubscription({ retryPolicy: { minimumBackoff: { seconds: 1 }, maximumBackoff: { seconds: 10 } } });
    await topic.publishMessage({ data: Buffer.from('later') });
    const received = record(subscriber(subscriptionName), (m, i) => (i === 0 ? m.nack() : m.ack()));
    const [first, second] = await waitForCount(received, 2, 'the delayed redelivery', 5000);
    expect(second!.receivedAt - first!.receivedAt).to.be.at.least(900);
  });

  it('delivers again what a subscriber closed without acknowledging (at least once)', async () => {
    const { topic, subscriptionName } = await topicWithSubscription();
    const id = await topic.publishMessage({ data: Buffer.from('unfinished') });
    const first = subscriber(subscriptionName);
    const gotFirst = record(first); // never acks
    await waitForCount(gotFirst, 1, 'the first delivery');
    await first.close(); // the client nacks what it still holds
    const gotSecond = record(subscriber(subscriptionName), (m) => m.ack());
    const [again] = await waitForCount(gotSecond, 1, 'the delivery to the next subscriber');
    expect(again!.id).to.equal(id);
  });

  describe('StreamingPull through the generated client', () => {
    let client: InstanceType<typeof v1.SubscriberClient>;

    before(async () => {
      const config = await pubsub.getClientConfig();
      client = new v1.SubscriberClient({ ...config, port: Number(config.port) });
    });
    after(async () => {
      await client.close();
    });

    function open(subscription: string, streamAckDeadlineSeconds: number) {
      const stream = client.streamingPull();
      const deliveries: Array<{ ackId: string; id: string; at: number }> = [];
      const ended = new Promise<number>((resolve) => {
        stream.on('error', (err: { code?: number }) => resolve(err.code ?? -1));
        stream.on('end', () => resolve(status.OK));
      });
      stream.on('data', (res: { receivedMessages?: Array<{ ackId?: string | null; message?: { messageId?: string | null } | null }> }) => {
        for (const m of res.receivedMessages ?? []) deliveries.push({ ackId: m.ackId!, id: m.message!.messageId!, at: Date.now() });
      });
      stream.write({ subscription, streamAckDeadlineSeconds });
      return { stream, deliveries, ended };
    }

    it('redelivers a message whose ack deadline expired; a stale ack id changes nothing', async () => {
      const { topic, subscriptionName } = await topicWithSubscription();
      const { stream, deliveries } = open(subscriptionName, 10);
      try {
        const id = await topic.publishMessage({ data: Buffer.from('slow') });
        await waitFor(() => deliveries.length >= 1);
        const first = deliveries[0]!;
        expect(first.id).to.equal(id);
        // shorten the lease to 1 s and let it run out
        await client.modifyAckDeadline({ subscription: subscriptionName, ackIds: [first.ackId], ackDeadlineSeconds: 1 });
        await waitFor(() => deliveries.length >= 2, 4000);
        const second = deliveries[1]!;
        expect(second.id).to.equal(id);
        expect(second.ackId).to.not.equal(first.ackId);
        expect(second.at - first.at).to.be.at.least(900);

        await client.acknowledge({ subscription: subscriptionName, ackIds: [first.ackId] });
        expect(broker.stats(subscriptionName)).to.include({ outstanding: 1, acknowledged: 0 });
        // acks also travel on the stream itself
        stream.write({ ackIds: [second.ackId] });
        await waitFor(() => broker.stats(subscriptionName).acknowledged === 1);
        expect(broker.stats(subscriptionName)).to.include({ outstanding: 0, backlog: 0 });
      } finally {
        stream.cancel();
      }
    });

    it('refuses a stream ack deadline outside 10..600 s and a subscription that does not exist', async () => {
      const { subscriptionName } = await topicWithSubscription();
      const short = open(subscriptionName, 5);
      expect(await short.ended).to.equal(status.INVALID_ARGUMENT);
      const missing = open(unique('subscriptions'), 10);
      expect(await missing.ended).to.equal(status.NOT_FOUND);
    });
  });
});

async function waitFor(done: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await pause(20);
  }
}
