import type { Logger } from '../../observability/logger';
import type { Clock } from '../clock';
import type { HistoryRecord, Mailbox } from '../gmail-store';
import { PubsubBroker } from './broker';
import { GmailPublisher } from './gmail-publisher';
import { createPubsubGrpcServer } from './server';

/**
 * The sandbox's Pub/Sub for pull subscribers: an in-memory broker (broker.ts) behind a gRPC server
 * (server.ts) built from the official client's protos, fed with the notifications of watched
 * sandbox mailboxes (gmail-publisher.ts). Created with the Gmail topic and the pull subscription
 * already in place, as an operator would set them up.
 */
export interface SandboxPubsubOptions {
  topicName: string;
  subscription: string;
  logger: Logger;
  clock: Clock;
}

export interface SandboxPubsub {
  broker: PubsubBroker;
  /** Publishes the Gmail notification for a mailbox change (the GmailStore listener). */
  notify(mailbox: Mailbox, record: HistoryRecord): void;
  /** Starts the gRPC server on 127.0.0.1:port (0 picks one); resolves the port it listens on. */
  listen(port: number): Promise<number>;
  /** The port listened on, or null before listen(). */
  readonly port: number | null;
  close(): Promise<void>;
}

/** Retry backoff of the sandbox's subscription: a nacked notification comes back after 1 s, 2 s, … 10 s. */
export const SANDBOX_RETRY_POLICY = { minimumBackoffMs: 1000, maximumBackoffMs: 10_000 };

export function createSandboxPubsub(opts: SandboxPubsubOptions): SandboxPubsub {
  const logger = opts.logger.child({ component: 'sandbox-pubsub' });
  const broker = new PubsubBroker(opts.clock);
  broker.createTopic(opts.topicName);
  broker.createSubscription({ name: opts.subscription, topic: opts.topicName, retryPolicy: SANDBOX_RETRY_POLICY });
  const publisher = new GmailPublisher(broker, logger, opts.clock);
  const server = createPubsubGrpcServer(broker, logger);
  let port: number | null = null;
  return {
    broker,
    notify: (mailbox, record) => publisher.notify(mailbox, record),
    async listen(wanted) {
      port = await server.listen(wanted);
      logger.info({ port, subscription: opts.subscription }, 'sandbox gRPC Pub/Sub listening');
      return port;
    },
    get port() {
      return port;
    },
    async close() {
      await server.close();
      broker.close();
    },
  };
}
