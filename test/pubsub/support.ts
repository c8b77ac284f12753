import { OAuth2Client } from 'google-auth-library';
import { PubSub, type Message, type Subscription } from '@google-cloud/pubsub';
import { waitFor } from '../support/http-client';

/**
 * Helpers for the Pub/Sub tests: the official client pointed at a local Pub/Sub (the sandbox's
 * or Google's emulator) the way the worker connects to it, and a recorder of what a subscriber
 * receives.
 */

/** @google-cloud/pubsub against a plain-text local endpoint, with no credential lookup. */
export function localPubsub(port: number, projectId: string): PubSub {
  return new PubSub({ projectId, apiEndpoint: `127.0.0.1:${port}`, emulatorMode: true, authClient: new OAuth2Client() });
}

export interface Received {
  id: string;
  ackId: string;
  data: string;
  attributes: Record<string, string>;
  publishTime: Date;
  receivedAt: number;
  message: Message;
}

/**
 * Subscribes and records every delivery; `handle` decides what to do with each (default: nothing,
 * so the lease manager keeps extending it until the test acks or nacks).
 */
export function record(subscription: Subscription, handle: (m: Message, deliveryIndex: number) => void = () => undefined): Received[] {
  const received: Received[] = [];
  subscription.on('message', (message: Message) => {
    received.push({
      id: message.id,
      ackId: message.ackId,
      data: message.data.toString('utf8'),
      attributes: { ...message.attributes },
      publishTime: new Date(message.publishTime.getTime()),
      receivedAt: Date.now(),
      message,
    });
    handle(message, received.length - 1);
  });
  subscription.on('error', () => undefined);
  return received;
}

export async function waitForCount(received: Received[], n: number, what: string, timeoutMs = 10_000): Promise<Received[]> {
  return waitFor(what, async () => (received.length >= n ? received : undefined), timeoutMs, 20);
}

export const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The gRPC status code of a failed client call. */
export async function grpcCode(call: Promise<unknown>): Promise<number | undefined> {
  try {
    await call;
    return undefined;
  } catch (err) {
    return (err as { code?: number }).code;
  }
}

/** The Gmail notification as Gmail publishes it: JSON {emailAddress, historyId}. */
export function gmailNotification(emailAddress: string, historyId: string | number): Buffer {
  return Buffer.from(JSON.stringify({ emailAddress, historyId }));
}
