/**
 * The Pub/Sub v1 messages the sandbox reads and writes, as @grpc/proto-loader decodes them
 * (camelCase fields, 64-bit integers as strings, bytes as Buffer, defaults filled in). Only the
 * fields the sandbox looks at are declared.
 */

export interface Duration {
  seconds: string | number;
  nanos: number;
}

export interface Timestamp {
  seconds: string;
  nanos: number;
}

export interface TopicMessage {
  name: string;
  labels: Record<string, string>;
}

export interface GetTopicRequest {
  topic: string;
}

export interface PubsubMessageWire {
  data: Buffer;
  attributes: Record<string, string>;
  messageId: string;
  publishTime: Timestamp | null;
  orderingKey: string;
}

export interface PublishRequest {
  topic: string;
  messages: PubsubMessageWire[];
}

export interface PublishResponse {
  messageIds: string[];
}

export interface SubscriptionMessage {
  name: string;
  topic: string;
  pushConfig: { pushEndpoint: string } | null;
  bigqueryConfig: { table: string } | null;
  cloudStorageConfig: { bucket: string } | null;
  ackDeadlineSeconds: number;
  labels: Record<string, string>;
  enableMessageOrdering: boolean;
  filter: string;
  deadLetterPolicy: { deadLetterTopic: string } | null;
  retryPolicy: { minimumBackoff: Duration | null; maximumBackoff: Duration | null } | null;
  enableExactlyOnceDelivery: boolean;
}

export interface GetSubscriptionRequest {
  subscription: string;
}

export interface AcknowledgeRequest {
  subscription: string;
  ackIds: string[];
}

export interface ModifyAckDeadlineRequest {
  subscription: string;
  ackIds: string[];
  ackDeadlineSeconds: number;
}

export interface StreamingPullRequest {
  subscription: string;
  ackIds: string[];
  modifyDeadlineSeconds: number[];
  modifyDeadlineAckIds: string[];
  streamAckDeadlineSeconds: number;
  clientId: string;
  maxOutstandingMessages: string;
  maxOutstandingBytes: string;
}

export interface ReceivedMessage {
  ackId: string;
  message: PubsubMessageWire;
  deliveryAttempt: number;
}

export interface StreamingPullResponse {
  receivedMessages: ReceivedMessage[];
  subscriptionProperties: { exactlyOnceDeliveryEnabled: boolean; messageOrderingEnabled: boolean };
}

export type Empty = Record<string, never>;

export function durationToMs(d: Duration | null | undefined): number {
  if (!d) return 0;
  return Number(d.seconds) * 1000 + Math.round(d.nanos / 1e6);
}

export function msToDuration(ms: number): Duration {
  return { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 };
}

export function msToTimestamp(ms: number): Timestamp {
  return { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 };
}
