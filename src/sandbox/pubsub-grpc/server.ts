import {
  Server,
  ServerCredentials,
  status,
  type ServerDuplexStream,
  type ServerErrorResponse,
  type ServerUnaryCall,
  type sendUnaryData,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import type { Logger } from '../../observability/logger';
import type { Delivery, PubsubBroker, SubscriberStream, SubscriptionConfig } from './broker';
import { PubsubError } from './errors';
import { pubsubServices } from './protos';
import {
  durationToMs,
  msToDuration,
  msToTimestamp,
  type AcknowledgeRequest,
  type Empty,
  type GetSubscriptionRequest,
  type GetTopicRequest,
  type ModifyAckDeadlineRequest,
  type PublishRequest,
  type PublishResponse,
  type StreamingPullRequest,
  type StreamingPullResponse,
  type SubscriptionMessage,
  type TopicMessage,
} from './wire';

/**
 * The gRPC face of the sandbox Pub/Sub: what the official @google-cloud/pubsub client needs for a
 * subscriber (StreamingPull, Acknowledge, ModifyAckDeadline) and for setting up and publishing
 * (CreateTopic, GetTopic, Publish, CreateSubscription, GetSubscription). Every other RPC answers
 * UNIMPLEMENTED. Plain text on 127.0.0.1 only, like Google's emulator.
 */

const MESSAGE_RETENTION_MS = 7 * 24 * 3600 * 1000;

function toServiceError(err: unknown, logger: Logger): ServerErrorResponse {
  if (err instanceof PubsubError) return Object.assign(new Error(err.message), { code: err.code, details: err.message });
  logger.error({ err: { name: (err as Error).name, message: (err as Error).message } }, 'sandbox pubsub request failed');
  return Object.assign(new Error('internal error'), { code: status.INTERNAL, details: 'internal error' });
}

function unary<Req, Res>(logger: Logger, handle: (request: Req) => Res) {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
    try {
      callback(null, handle(call.request));
    } catch (err) {
      callback(toServiceError(err, logger));
    }
  };
}

function subscriptionMessage(config: SubscriptionConfig): Partial<SubscriptionMessage> & Record<string, unknown> {
  return {
    name: config.name,
    topic: config.topic,
    pushConfig: { pushEndpoint: '' },
    ackDeadlineSeconds: config.ackDeadlineSeconds,
    labels: config.labels,
    messageRetentionDuration: msToDuration(MESSAGE_RETENTION_MS),
    retryPolicy: config.retryPolicy
      ? { minimumBackoff: msToDuration(config.retryPolicy.minimumBackoffMs), maximumBackoff: msToDuration(config.retryPolicy.maximumBackoffMs) }
      : null,
    state: 'ACTIVE',
  };
}

/** Features of a subscription the sandbox does not model: refused rather than silently ignored. */
function unsupportedFeature(s: SubscriptionMessage): string | null {
  if (s.pushConfig?.pushEndpoint) return 'push subscriptions (the sandbox pushes Gmail notifications itself)';
  if (s.bigqueryConfig?.table || s.cloudStorageConfig?.bucket) return 'export subscriptions';
  if (s.enableMessageOrdering) return 'message ordering';
  if (s.enableExactlyOnceDelivery) return 'exactly-once delivery';
  if (s.filter) return 'filters';
  if (s.deadLetterPolicy?.deadLetterTopic) return 'dead-letter topics';
  return null;
}

function toReceived(deliveries: Delivery[]): StreamingPullResponse {
  return {
    receivedMessages: deliveries.map(({ ackId, message }) => ({
      ackId,
      message: {
        data: message.data,
        attributes: message.attributes,
        messageId: message.messageId,
        publishTime: msToTimestamp(message.publishTimeMs),
        orderingKey: message.orderingKey,
      },
      // Pub/Sub fills delivery_attempt only for subscriptions with a dead-letter policy.
      deliveryAttempt: 0,
    })),
    subscriptionProperties: { exactlyOnceDeliveryEnabled: false, messageOrderingEnabled: false },
  };
}

function publisherService(broker: PubsubBroker, logger: Logger): UntypedServiceImplementation {
  return {
    CreateTopic: unary<TopicMessage, TopicMessage>(logger, (req) => broker.createTopic(req.name, req.labels)),
    GetTopic: unary<GetTopicRequest, TopicMessage>(logger, (req) => broker.getTopic(req.topic)),
    Publish: unary<PublishRequest, PublishResponse>(logger, (req) => ({
      messageIds: broker.publish(
        req.topic,
        req.messages.map((m) => ({ data: Buffer.from(m.data), attributes: m.attributes, orderingKey: m.orderingKey })),
      ),
    })),
  };
}

function subscriberService(broker: PubsubBroker, logger: Logger): UntypedServiceImplementation {
  return {
    CreateSubscription: unary<SubscriptionMessage, Record<string, unknown>>(logger, (req) => {
      const unsupported = unsupportedFeature(req);
      if (unsupported) throw PubsubError.invalid(`The sandbox Pub/Sub does not support ${unsupported}.`);
      const retryPolicy = req.retryPolicy
        ? {
            // Pub/Sub's defaults when a retry policy is given without values: 10 s and 600 s.
            minimumBackoffMs: req.retryPolicy.minimumBackoff ? durationToMs(req.retryPolicy.minimumBackoff) : 10_000,
            maximumBackoffMs: req.retryPolicy.maximumBackoff ? durationToMs(req.retryPolicy.maximumBackoff) : 600_000,
          }
        : null;
      return subscriptionMessage(broker.createSubscription({ name: req.name, topic: req.topic, ackDeadlineSeconds: req.ackDeadlineSeconds, retryPolicy, labels: req.labels }));
    }),
    GetSubscription: unary<GetSubscriptionRequest, Record<string, unknown>>(logger, (req) => subscriptionMessage(broker.getSubscription(req.subscription))),
    Acknowledge: unary<AcknowledgeRequest, Empty>(logger, (req) => {
      broker.acknowledge(req.subscription, req.ackIds);
      return {};
    }),
    ModifyAckDeadline: unary<ModifyAckDeadlineRequest, Empty>(logger, (req) => {
      broker.modifyAckDeadline(req.subscription, req.ackIds, req.ackDeadlineSeconds);
      return {};
    }),
    StreamingPull: (call: ServerDuplexStream<StreamingPullRequest, StreamingPullResponse>) => streamingPull(call, broker, logger),
  };
}

/**
 * One StreamingPull: the first request names the subscription and the stream's ack deadline;
 * every request may carry acks and deadline changes; an empty request is a keep-alive.
 */
function streamingPull(call: ServerDuplexStream<StreamingPullRequest, StreamingPullResponse>, broker: PubsubBroker, logger: Logger): void {
  let stream: SubscriberStream | null = null;
  let subscription = '';
  let finished = false;
  const finish = (err?: unknown) => {
    if (finished) return;
    finished = true;
    stream?.close();
    try {
      if (err) call.emit('error', toServiceError(err, logger));
      else call.end();
    } catch {
      // the call is already gone (cancelled by the client)
    }
  };

  call.on('data', (req: StreamingPullRequest) => {
    if (finished) return;
    try {
      if (!stream) {
        if (!req.subscription) throw PubsubError.invalid('The first request of a StreamingPull must name the subscription.');
        subscription = req.subscription;
        stream = broker.openStream(subscription, (deliveries) => {
          if (!finished) call.write(toReceived(deliveries));
        }, { ackDeadlineSeconds: req.streamAckDeadlineSeconds, maxOutstandingMessages: Number(req.maxOutstandingMessages) || 0 });
      } else if (req.streamAckDeadlineSeconds) {
        stream.setAckDeadline(req.streamAckDeadlineSeconds);
      }
      if (req.ackIds.length) broker.acknowledge(subscription, req.ackIds);
      if (req.modifyDeadlineAckIds.length !== req.modifyDeadlineSeconds.length) {
        throw PubsubError.invalid('modify_deadline_seconds and modify_deadline_ack_ids must have the same length.');
      }
      req.modifyDeadlineAckIds.forEach((ackId, i) => broker.modifyAckDeadline(subscription, [ackId], req.modifyDeadlineSeconds[i]!));
    } catch (err) {
      finish(err);
    }
  });
  call.on('end', () => finish());
  call.on('cancelled', () => finish());
  call.on('error', () => finish());
  call.on('close', () => finish());
}

export interface PubsubGrpcServer {
  /** Listens on 127.0.0.1:port (0 picks a free port); resolves the port. */
  listen(port: number): Promise<number>;
  close(): Promise<void>;
}

export function createPubsubGrpcServer(broker: PubsubBroker, logger: Logger): PubsubGrpcServer {
  const services = pubsubServices();
  const server = new Server();
  server.addService(services.publisher, publisherService(broker, logger));
  server.addService(services.subscriber, subscriberService(broker, logger));
  let listening = false;
  return {
    listen(port) {
      return new Promise((resolve, reject) => {
        server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (err, bound) => {
          if (err) return reject(new Error(`the sandbox gRPC Pub/Sub cannot listen on 127.0.0.1:${port}: ${err.message}`));
          listening = true;
          resolve(bound);
        });
      });
    },
    async close() {
      // Open StreamingPulls never end by themselves: cancel them rather than wait.
      if (listening) server.forceShutdown();
      listening = false;
    },
  };
}
