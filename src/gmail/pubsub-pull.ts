import { randomUUID } from 'node:crypto';
import { OAuth2Client } from 'google-auth-library';
import { Duration, PubSub, SubscriptionCloseBehaviors, type ClientConfig, type Message, type Subscription } from '@google-cloud/pubsub';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import { decodePushBody, UnreadablePushError, type GmailNotification } from './push-notification';

/**
 * Takes Gmail notifications from a Pub/Sub pull subscription with the official client: the same
 * notifications the push webhook takes, handed to the same `accept` (which queues the mailbox
 * sync). A message is acknowledged only once `accept` resolved, i.e. the sync is durably queued;
 * when it fails the message is nacked so that Pub/Sub delivers it again. A message that cannot be
 * read is acknowledged (and logged) so that it is not redelivered forever.
 */

export interface PullListenerOptions {
  /** projects/<project>/subscriptions/<name>; the project is the client's project id. */
  subscription: string;
  /** host:port of the Pub/Sub API; empty: Google's. */
  apiEndpoint: string;
  /**
   * The endpoint is a local Pub/Sub (the sandbox's or Google's emulator): plain-text gRPC and no
   * credentials, so that no credential lookup (which may probe the cloud metadata server) happens.
   */
  local: boolean;
  /** Queues the sync of the notified mailbox; resolves once that is durable. */
  accept(notification: GmailNotification, requestId: string): Promise<string>;
  metrics: Pick<Metrics, 'pushes'>;
  logger: Logger;
}

export interface PullListener {
  /** Stops taking messages, lets those being handled finish, and closes the client. */
  close(): Promise<void>;
}

const MAX_MESSAGES_IN_HAND = 100;
const CLOSE_TIMEOUT = Duration.from({ seconds: 10 });
const FIRST_REOPEN_DELAY_MS = 1000;
const MAX_REOPEN_DELAY_MS = 60_000;
// A local Pub/Sub may start after the worker (the sandbox lives in the web process): retry the
// stream every few seconds rather than with the client's backoff of up to a minute.
const LOCAL_RETRY_MAX = Duration.from({ seconds: 3 });

export function projectOfSubscription(subscription: string): string {
  const project = /^projects\/([^/]+)\/subscriptions\/[^/]+$/.exec(subscription)?.[1];
  if (!project) throw new Error('PUBSUB_SUBSCRIPTION must look like projects/<project>/subscriptions/<name>');
  return project;
}

function clientConfig(opts: PullListenerOptions): ClientConfig {
  const projectId = projectOfSubscription(opts.subscription);
  if (!opts.local) return { projectId, ...(opts.apiEndpoint ? { apiEndpoint: opts.apiEndpoint } : {}) };
  if (!opts.apiEndpoint) throw new Error('a local Pub/Sub needs PUBSUB_API_ENDPOINT');
  return { projectId, apiEndpoint: opts.apiEndpoint, emulatorMode: true, authClient: new OAuth2Client() };
}

/** A pulled message in the shape of a push body, so that one decoder reads both. */
function asPushBody(message: Message): unknown {
  return { message: { data: message.data.toString('base64'), messageId: message.id } };
}

function errorSummary(err: unknown): { name: string; code?: unknown } {
  // Name and code only: a database error's message may quote the values of the failed query.
  const e = err as { name?: unknown; code?: unknown };
  return { name: typeof e?.name === 'string' ? e.name : 'Error', ...(e?.code !== undefined ? { code: e.code } : {}) };
}

export function startPullListener(opts: PullListenerOptions): PullListener {
  const log = opts.logger.child({ component: 'pubsub-pull' });
  const counted = (outcome: string) => opts.metrics.pushes.inc({ source: 'pull', outcome });
  const pubsub = new PubSub(clientConfig(opts));
  const subscription: Subscription = pubsub.subscription(opts.subscription, {
    flowControl: { maxMessages: MAX_MESSAGES_IN_HAND },
    ...(opts.local ? { streamingOptions: { retryMaxBackoff: LOCAL_RETRY_MAX } } : {}),
    closeOptions: { behavior: SubscriptionCloseBehaviors.WaitForProcessing, timeout: CLOSE_TIMEOUT },
  });
  const inHand = new Set<Promise<void>>();
  let closing = false;
  let reopenDelayMs = FIRST_REOPEN_DELAY_MS;
  let reopenTimer: NodeJS.Timeout | null = null;

  async function handle(message: Message): Promise<void> {
    const pubsubMessageId = message.id;
    let notification: GmailNotification;
    try {
      notification = decodePushBody(asPushBody(message));
    } catch (err) {
      if (!(err instanceof UnreadablePushError)) throw err;
      log.warn({ pubsubMessageId, reason: err.message }, 'pulled notification acknowledged without processing');
      counted('unreadable');
      message.ack();
      return;
    }
    const requestId = randomUUID();
    try {
      const outcome = await opts.accept(notification, requestId);
      message.ack();
      counted(outcome);
      log.info({ outcome, historyId: notification.historyId, pubsubMessageId, requestId }, 'pull');
    } catch (err) {
      message.nack();
      counted('failed');
      log.warn({ pubsubMessageId, requestId, err: errorSummary(err) }, 'pulled notification not queued; nacked for redelivery');
    }
  }

  subscription.on('message', (message: Message) => {
    reopenDelayMs = FIRST_REOPEN_DELAY_MS;
    const handled: Promise<void> = handle(message)
      .catch((err: unknown) => {
        message.nack();
        log.error({ pubsubMessageId: message.id, err: errorSummary(err) }, 'pulled notification failed');
      })
      .finally(() => inHand.delete(handled));
    inHand.add(handled);
  });
  subscription.on('error', (err: Error & { code?: unknown }) => {
    log.warn({ err: { name: err.name, code: err.code, message: err.message.slice(0, 300) } }, 'pubsub subscription error');
  });
  // The client retries what can be retried by itself; it closes the subscription on an error that
  // it cannot (subscription missing, endpoint unreachable for minutes). Keep trying, with backoff.
  subscription.on('close', () => {
    if (closing) return;
    log.warn({ retryInMs: reopenDelayMs }, 'pubsub subscription closed; reopening');
    reopenTimer = setTimeout(() => {
      reopenTimer = null;
      if (!closing) subscription.open();
    }, reopenDelayMs);
    reopenDelayMs = Math.min(reopenDelayMs * 2, MAX_REOPEN_DELAY_MS);
  });

  log.info({ subscription: opts.subscription, endpoint: opts.apiEndpoint || 'google' }, 'pubsub pull listening');

  return {
    async close() {
      closing = true;
      if (reopenTimer) clearTimeout(reopenTimer);
      await subscription.close();
      await Promise.allSettled([...inHand]);
      await pubsub.close();
      log.info({}, 'pubsub pull stopped');
    },
  };
}
