import { expect } from 'chai';
import { Writable } from 'node:stream';
import { startPullListener, type PullListener } from '../../src/gmail/pubsub-pull';
import type { GmailNotification } from '../../src/gmail/push-notification';
import { createLogger } from '../../src/observability/logger';
import { createMetrics } from '../../src/observability/metrics';
import { systemClock } from '../../src/sandbox/clock';
import { PubsubBroker } from '../../src/sandbox/pubsub-grpc/broker';
import { createPubsubGrpcServer, type PubsubGrpcServer } from '../../src/sandbox/pubsub-grpc/server';
import { waitFor } from '../support/http-client';
import { gmailNotification } from './support';

const TOPIC = 'projects/listener-project/topics/gmail';
const SUBSCRIPTION = 'projects/listener-project/subscriptions/gmail-pull';

/**
 * The pull listener on its own, against the sandbox gRPC Pub/Sub: what it hands over, and that it
 * keeps trying when the subscription it was given does not exist yet (a worker started before the
 * operator created it, or before the sandbox in the web process).
 */
describe('Pub/Sub pull listener', function () {
  this.timeout(30000);
  let broker: PubsubBroker;
  let server: PubsubGrpcServer;
  let listener: PullListener | undefined;
  const logLines: Array<{ msg?: string }> = [];

  before(async () => {
    broker = new PubsubBroker(systemClock);
    server = createPubsubGrpcServer(broker, createLogger({ level: 'silent', pretty: false }));
  });
  after(async () => {
    await listener?.close();
    await server.close();
    broker.close();
  });

  it('waits for a subscription that does not exist yet, then hands over its notifications and acknowledges them', async () => {
    const port = await server.listen(0);
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) logLines.push(JSON.parse(line) as { msg?: string });
        done();
      },
    });
    const accepted: Array<{ notification: GmailNotification; requestId: string }> = [];
    const metrics = createMetrics();
    listener = startPullListener({
      subscription: SUBSCRIPTION,
      apiEndpoint: `127.0.0.1:${port}`,
      local: true,
      accept: async (notification, requestId) => {
        accepted.push({ notification, requestId });
        return 'queued';
      },
      metrics,
      logger: createLogger({ level: 'info', pretty: false, destination: sink }),
    });

    await waitFor('the listener to notice the missing subscription', async () => logLines.some((l) => l.msg === 'pubsub subscription closed; reopening'), 10_000);
    broker.createTopic(TOPIC);
    broker.createSubscription({ name: SUBSCRIPTION, topic: TOPIC });
    const [id] = broker.publish(TOPIC, [{ data: gmailNotification('someone@example.com', 4242) }]);

    await waitFor('the notification', async () => accepted.length === 1, 15_000);
    expect(accepted[0]!.notification).to.deep.equal({ emailAddress: 'someone@example.com', historyId: '4242', pubsubMessageId: id });
    expect(accepted[0]!.requestId).to.match(/^[0-9a-f-]{36}$/);
    await waitFor('the acknowledgement', async () => broker.stats(SUBSCRIPTION).acknowledged === 1);
    expect(broker.stats(SUBSCRIPTION)).to.include({ outstanding: 0, backlog: 0 });
    const counted = (await metrics.pushes.get()).values.map((v) => ({ ...v.labels, value: v.value }));
    expect(counted).to.deep.equal([{ source: 'pull', outcome: 'queued', value: 1 }]);
  });
});
