import net from 'node:net';
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

export interface LoopbackGuard {
  /** Every host a connection was attempted to, loopback or not. */
  hosts: string[];
  /** The non-loopback ones (refused before any packet left). */
  refused: string[];
  restore(): void;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost|::ffff:127\.\d+\.\d+\.\d+)$/i;

/**
 * Refuses, inside this process, every TCP connection to a host outside loopback (before any name
 * lookup or packet), and records every attempt. Installed by a test that switches the metadata
 * server switch off, to prove that nothing of ours needs it to stay on this machine.
 */
export function guardLoopbackOnly(): LoopbackGuard {
  const original = net.Socket.prototype.connect;
  const guard: LoopbackGuard = { hosts: [], refused: [], restore: () => void (net.Socket.prototype.connect = original) };
  net.Socket.prototype.connect = function guardedConnect(this: net.Socket, ...args: unknown[]) {
    // net.connect() hands the socket its arguments already normalised, as [options, callback].
    const first = Array.isArray(args[0]) ? (args[0] as unknown[])[0] : args[0];
    let host: string | undefined;
    if (first && typeof first === 'object') {
      const options = first as { host?: string; path?: string };
      host = options.path ? undefined : (options.host ?? 'localhost');
    } else if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
      host = typeof args[1] === 'string' ? args[1] : 'localhost';
    }
    if (host !== undefined) {
      guard.hosts.push(host);
      if (!LOOPBACK.test(host)) {
        guard.refused.push(host);
        process.nextTick(() => this.destroy(new Error(`test guard: connection to ${host} refused (outside loopback)`)));
        return this;
      }
    }
    return (original as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof original;
  return guard;
}
