import { randomBytes, randomInt } from 'node:crypto';
import type { Clock } from '../clock';
import { PubsubError } from './errors';

/**
 * The state of the sandbox Pub/Sub, in memory: topics, subscriptions, and for each subscription
 * the messages waiting and the messages leased to a subscriber until their ack deadline.
 * Semantics follow Pub/Sub's at-least-once delivery without ordering or exactly-once:
 *
 * - a message published to a topic is copied to every subscription the topic has at that moment;
 * - it is delivered to one of the subscription's open streams (round robin, within each stream's
 *   flow control) under an ack id that holds a lease until the stream's ack deadline;
 * - acknowledging ends it; a nack (deadline 0) or an expired deadline makes it available again,
 *   at once or after the subscription's retry-policy backoff; a stale or unknown ack id is ignored;
 * - deliveries never happen inside the call that published (they are scheduled), like Pub/Sub's.
 */

export const MIN_ACK_DEADLINE_SECONDS = 10;
export const MAX_ACK_DEADLINE_SECONDS = 600;

export interface PubsubMessage {
  messageId: string;
  data: Buffer;
  attributes: Record<string, string>;
  orderingKey: string;
  publishTimeMs: number;
}

export interface NewMessage {
  data: Buffer;
  attributes?: Record<string, string>;
  orderingKey?: string;
}

export interface Topic {
  name: string;
  labels: Record<string, string>;
}

export interface RetryPolicy {
  minimumBackoffMs: number;
  maximumBackoffMs: number;
}

export interface SubscriptionConfig {
  name: string;
  topic: string;
  ackDeadlineSeconds: number;
  retryPolicy: RetryPolicy | null;
  labels: Record<string, string>;
}

/** One message handed to a subscriber, as a StreamingPull response carries it. */
export interface Delivery {
  ackId: string;
  message: PubsubMessage;
}

/** Where a stream's deliveries go (the gRPC call of a StreamingPull). */
export type DeliverySink = (deliveries: Delivery[]) => void;

export interface StreamOptions {
  ackDeadlineSeconds: number;
  /** 0: no limit. */
  maxOutstandingMessages: number;
}

export interface SubscriberStream {
  setAckDeadline(seconds: number): void;
  close(): void;
}

export interface SubscriptionStats {
  /** Messages waiting for a delivery (including those waiting out a retry backoff). */
  backlog: number;
  /** Messages leased to a subscriber and not yet acknowledged. */
  outstanding: number;
  deliveries: number;
  acknowledged: number;
  /** How many times each message id was delivered. */
  deliveriesByMessage: Record<string, number>;
}

interface Pending {
  message: PubsubMessage;
  failedDeliveries: number;
  availableAtMs: number;
}

interface StreamState {
  sink: DeliverySink;
  ackDeadlineSeconds: number;
  maxOutstanding: number;
  outstanding: number;
  open: boolean;
}

interface Lease {
  pending: Pending;
  stream: StreamState;
  timer: NodeJS.Timeout;
}

interface SubscriptionState {
  config: SubscriptionConfig;
  backlog: Pending[];
  leases: Map<string, Lease>;
  streams: StreamState[];
  nextStream: number;
  dispatchScheduled: boolean;
  wakeTimer: NodeJS.Timeout | null;
  wakeAtMs: number;
  deliveries: number;
  acknowledged: number;
  deliveriesByMessage: Map<string, number>;
}

// Pub/Sub's resource name rules: 3-255 characters, starting with a letter, not with "goog".
const RESOURCE_ID = /^(?!goog)[A-Za-z][A-Za-z0-9\-_.~+%]{2,254}$/;
const PROJECT_ID = /^[A-Za-z0-9._:-]{1,100}$/;

function checkName(name: string, kind: 'topics' | 'subscriptions'): string {
  const parts = name.split('/');
  if (parts.length !== 4 || parts[0] !== 'projects' || parts[2] !== kind || !PROJECT_ID.test(parts[1]!) || !RESOURCE_ID.test(parts[3]!)) {
    throw PubsubError.invalid(`Invalid [${kind}] name: (name=${name.slice(0, 300)})`);
  }
  return parts[3]!;
}

function checkAckDeadline(seconds: number, allowZero: boolean): void {
  const ok = Number.isInteger(seconds) && ((allowZero && seconds === 0) || (seconds >= MIN_ACK_DEADLINE_SECONDS && seconds <= MAX_ACK_DEADLINE_SECONDS));
  if (!ok) throw PubsubError.invalid(`Invalid ack deadline given: ${seconds}. It must be between ${MIN_ACK_DEADLINE_SECONDS} and ${MAX_ACK_DEADLINE_SECONDS} seconds.`);
}

export class PubsubBroker {
  private readonly topics = new Map<string, Topic>();
  private readonly subscriptions = new Map<string, SubscriptionState>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private nextMessageId = BigInt(randomInt(1_000_000, 9_999_999)) * 1_000_000n;
  private closed = false;

  constructor(private readonly clock: Clock) {}

  createTopic(name: string, labels: Record<string, string> = {}): Topic {
    const id = checkName(name, 'topics');
    if (this.topics.has(name)) throw PubsubError.alreadyExists(id);
    const topic = { name, labels: { ...labels } };
    this.topics.set(name, topic);
    return topic;
  }

  getTopic(name: string): Topic {
    const id = checkName(name, 'topics');
    const topic = this.topics.get(name);
    if (!topic) throw PubsubError.notFound(id);
    return topic;
  }

  createSubscription(input: { name: string; topic: string; ackDeadlineSeconds?: number; retryPolicy?: RetryPolicy | null; labels?: Record<string, string> }): SubscriptionConfig {
    const id = checkName(input.name, 'subscriptions');
    this.getTopic(input.topic);
    if (this.subscriptions.has(input.name)) throw PubsubError.alreadyExists(id);
    const ackDeadlineSeconds = input.ackDeadlineSeconds || MIN_ACK_DEADLINE_SECONDS;
    checkAckDeadline(ackDeadlineSeconds, false);
    const retryPolicy = input.retryPolicy ?? null;
    if (retryPolicy && !(retryPolicy.minimumBackoffMs >= 0 && retryPolicy.maximumBackoffMs >= retryPolicy.minimumBackoffMs && retryPolicy.maximumBackoffMs <= MAX_ACK_DEADLINE_SECONDS * 1000)) {
      throw PubsubError.invalid('Invalid retry policy: backoffs must satisfy 0 <= minimum_backoff <= maximum_backoff <= 600s.');
    }
    const config: SubscriptionConfig = { name: input.name, topic: input.topic, ackDeadlineSeconds, retryPolicy, labels: { ...(input.labels ?? {}) } };
    this.subscriptions.set(input.name, {
      config,
      backlog: [],
      leases: new Map(),
      streams: [],
      nextStream: 0,
      dispatchScheduled: false,
      wakeTimer: null,
      wakeAtMs: Infinity,
      deliveries: 0,
      acknowledged: 0,
      deliveriesByMessage: new Map(),
    });
    return config;
  }

  getSubscription(name: string): SubscriptionConfig {
    return this.state(name).config;
  }

  /**
   * Publishes to a topic; returns the message ids. For the sandbox's faults, `copies` > 1 puts each
   * message into every subscription that many times under the same message id (Pub/Sub's duplicate
   * delivery), and `delayMs` holds each copy back for the time it returns (reordering).
   */
  publish(topicName: string, messages: NewMessage[], faults: { copies?: number; delayMs?: () => number } = {}): string[] {
    this.getTopic(topicName);
    if (messages.length === 0) throw PubsubError.invalid('The request contains no messages.');
    if (messages.some((m) => m.data.length === 0 && Object.keys(m.attributes ?? {}).length === 0)) {
      throw PubsubError.invalid('Some messages contain no data and no attributes.');
    }
    const publishTimeMs = this.clock();
    const published = messages.map((m): PubsubMessage => {
      this.nextMessageId += BigInt(randomInt(1, 1000));
      return { messageId: this.nextMessageId.toString(), data: m.data, attributes: { ...(m.attributes ?? {}) }, orderingKey: m.orderingKey ?? '', publishTimeMs };
    });
    for (const sub of this.subscriptions.values()) {
      if (sub.config.topic !== topicName) continue;
      for (const message of published) {
        for (let copy = 0; copy < (faults.copies ?? 1); copy += 1) {
          sub.backlog.push({ message, failedDeliveries: 0, availableAtMs: faults.delayMs ? Date.now() + faults.delayMs() : 0 });
        }
      }
      this.scheduleDispatch(sub);
    }
    return published.map((m) => m.messageId);
  }

  /** A StreamingPull connected to a subscription; deliveries go to `sink` until close(). */
  openStream(subscription: string, sink: DeliverySink, opts: StreamOptions): SubscriberStream {
    const sub = this.state(subscription);
    checkAckDeadline(opts.ackDeadlineSeconds, false);
    const stream: StreamState = { sink, ackDeadlineSeconds: opts.ackDeadlineSeconds, maxOutstanding: Math.max(0, opts.maxOutstandingMessages), outstanding: 0, open: true };
    sub.streams.push(stream);
    this.scheduleDispatch(sub);
    return {
      setAckDeadline: (seconds) => {
        checkAckDeadline(seconds, false);
        stream.ackDeadlineSeconds = seconds;
      },
      // The stream's leases stay until they are acknowledged or expire, as with Pub/Sub.
      close: () => {
        if (!stream.open) return;
        stream.open = false;
        sub.streams = sub.streams.filter((s) => s !== stream);
      },
    };
  }

  acknowledge(subscription: string, ackIds: string[]): void {
    const sub = this.state(subscription);
    for (const ackId of ackIds) {
      const lease = this.endLease(sub, ackId);
      if (lease) sub.acknowledged += 1;
    }
    this.scheduleDispatch(sub);
  }

  /** Extends (or, with 0, gives up: a nack) the leases of these ack ids. */
  modifyAckDeadline(subscription: string, ackIds: string[], seconds: number): void {
    const sub = this.state(subscription);
    if (!Number.isInteger(seconds) || seconds < 0 || seconds > MAX_ACK_DEADLINE_SECONDS) {
      throw PubsubError.invalid(`Invalid ack deadline given: ${seconds}. It must be between 0 and ${MAX_ACK_DEADLINE_SECONDS} seconds.`);
    }
    for (const ackId of ackIds) {
      const lease = sub.leases.get(ackId);
      if (!lease) continue;
      if (seconds === 0) {
        this.endLease(sub, ackId);
        this.redeliverLater(sub, lease.pending);
      } else {
        this.clearTimer(lease.timer);
        lease.timer = this.setTimer(() => this.expire(sub, ackId), seconds * 1000);
      }
    }
    this.scheduleDispatch(sub);
  }

  stats(subscription: string): SubscriptionStats {
    const sub = this.state(subscription);
    return {
      backlog: sub.backlog.length,
      outstanding: sub.leases.size,
      deliveries: sub.deliveries,
      acknowledged: sub.acknowledged,
      deliveriesByMessage: Object.fromEntries(sub.deliveriesByMessage),
    };
  }

  close(): void {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private state(name: string): SubscriptionState {
    const id = checkName(name, 'subscriptions');
    const sub = this.subscriptions.get(name);
    if (!sub) throw PubsubError.notFound(id);
    return sub;
  }

  private setTimer(fn: () => void, ms: number): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
    return timer;
  }

  private clearTimer(timer: NodeJS.Timeout): void {
    clearTimeout(timer);
    this.timers.delete(timer);
  }

  private endLease(sub: SubscriptionState, ackId: string): Lease | undefined {
    const lease = sub.leases.get(ackId);
    if (!lease) return undefined;
    this.clearTimer(lease.timer);
    sub.leases.delete(ackId);
    lease.stream.outstanding -= 1;
    return lease;
  }

  private expire(sub: SubscriptionState, ackId: string): void {
    const lease = this.endLease(sub, ackId);
    if (!lease) return;
    this.redeliverLater(sub, lease.pending);
    this.scheduleDispatch(sub);
  }

  /** A nacked or expired message waits out the retry policy's exponential backoff, if any. */
  private redeliverLater(sub: SubscriptionState, pending: Pending): void {
    pending.failedDeliveries += 1;
    const policy = sub.config.retryPolicy;
    const backoff = policy ? Math.min(policy.maximumBackoffMs, policy.minimumBackoffMs * 2 ** (pending.failedDeliveries - 1)) : 0;
    pending.availableAtMs = Date.now() + backoff;
    sub.backlog.push(pending);
  }

  private scheduleDispatch(sub: SubscriptionState): void {
    if (sub.dispatchScheduled || this.closed) return;
    sub.dispatchScheduled = true;
    this.setTimer(() => {
      sub.dispatchScheduled = false;
      this.dispatch(sub);
    }, 0);
  }

  private pickStream(sub: SubscriptionState): StreamState | undefined {
    for (let i = 0; i < sub.streams.length; i += 1) {
      const stream = sub.streams[(sub.nextStream + i) % sub.streams.length]!;
      if (stream.maxOutstanding === 0 || stream.outstanding < stream.maxOutstanding) {
        sub.nextStream = (sub.nextStream + i + 1) % sub.streams.length;
        return stream;
      }
    }
    return undefined;
  }

  private dispatch(sub: SubscriptionState): void {
    if (this.closed) return;
    const now = Date.now();
    const batches = new Map<StreamState, Delivery[]>();
    const waiting: Pending[] = [];
    let wakeAtMs = Infinity;
    for (const pending of sub.backlog) {
      if (pending.availableAtMs > now) {
        wakeAtMs = Math.min(wakeAtMs, pending.availableAtMs);
        waiting.push(pending);
        continue;
      }
      const stream = this.pickStream(sub);
      if (!stream) {
        waiting.push(pending);
        continue;
      }
      const ackId = randomBytes(24).toString('base64url');
      stream.outstanding += 1;
      sub.leases.set(ackId, { pending, stream, timer: this.setTimer(() => this.expire(sub, ackId), stream.ackDeadlineSeconds * 1000) });
      sub.deliveries += 1;
      sub.deliveriesByMessage.set(pending.message.messageId, (sub.deliveriesByMessage.get(pending.message.messageId) ?? 0) + 1);
      const batch = batches.get(stream) ?? [];
      batch.push({ ackId, message: pending.message });
      batches.set(stream, batch);
    }
    sub.backlog = waiting;
    for (const [stream, deliveries] of batches) stream.sink(deliveries);
    if (wakeAtMs < sub.wakeAtMs) {
      if (sub.wakeTimer) this.clearTimer(sub.wakeTimer);
      sub.wakeAtMs = wakeAtMs;
      sub.wakeTimer = this.setTimer(() => {
        sub.wakeTimer = null;
        sub.wakeAtMs = Infinity;
        this.dispatch(sub);
      }, wakeAtMs - now);
    }
  }
}
