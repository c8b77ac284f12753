import { randomInt } from 'node:crypto';
import type { Logger } from '../observability/logger';
import type { Clock } from './clock';
import { SHUFFLE_MAX_DELAY_MS } from './faults';
import type { HistoryRecord, Mailbox, Watch } from './gmail-store';
import { numericSubjectId } from './ids';
import type { SigningKeys } from './signing-keys';

/**
 * Gmail → Pub/Sub → push subscription, as the app sees it: for every history change that passes the
 * mailbox's watch filter, a POST of Pub/Sub's push body to the push endpoint, authenticated with a
 * Google-signed OIDC token. Like Pub/Sub it is asynchronous (never inside the request that caused
 * it), at-least-once (retried with exponential backoff on non-2xx or network errors, up to
 * MAX_ATTEMPTS), and not ordered. Faults can duplicate, drop or shuffle deliveries (shuffled: each
 * copy waits a random 0..SHUFFLE_MAX_DELAY_MS, so it arrives out of order and often stale).
 */

export const MAX_ATTEMPTS = 6;
const FIRST_BACKOFF_MS = 200;
const REQUEST_TIMEOUT_MS = 10_000;
/** How long one signed push token is put on pushes (it is valid for an hour). */
const TOKEN_REUSE_MS = 10 * 60_000;

export interface PushOptions {
  endpoint: string;
  audience: string;
  serviceAccount: string;
  topicName: string;
  keys: SigningKeys;
  logger: Logger;
  clock: Clock;
}

export interface PushBody {
  message: {
    data: string;
    messageId: string;
    message_id: string;
    publishTime: string;
    publish_time: string;
  };
  subscription: string;
}

/** True when the watch asks for a notification about this change. */
export function watchAllows(watch: Watch, record: HistoryRecord): boolean {
  if (watch.labelIds.length === 0) return true;
  const touched = new Set([...record.labelIds, ...record.changedLabelIds]);
  const hit = watch.labelIds.some((l) => touched.has(l));
  return watch.behavior === 'include' ? hit : !hit;
}

export class PushDelivery {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Set<AbortController>();
  private nextMessageId = BigInt(randomInt(10_000_000, 99_999_999)) * 100_000n;
  private closed = false;
  private readonly subscription: string;
  private signed?: { token: string; issuedAt: number };

  constructor(private readonly opts: PushOptions) {
    const project = /^projects\/([^/]+)\//.exec(opts.topicName)?.[1] ?? 'sandbox-project';
    this.subscription = `projects/${project}/subscriptions/gmail-push`;
  }

  /** Called for every history change of every mailbox. */
  notify(mailbox: Mailbox, record: HistoryRecord): void {
    if (this.closed) return;
    const watch = mailbox.watch;
    const now = this.opts.clock();
    if (!watch || watch.expiration <= now || !watchAllows(watch, record)) return;
    const user = numericSubjectId(mailbox.address);
    this.nextMessageId += BigInt(randomInt(1, 5000));
    const messageId = this.nextMessageId.toString();
    if (mailbox.faults.dropPushes) {
      this.opts.logger.info({ user, pushMessageId: messageId, historyId: record.id }, 'sandbox push dropped (fault)');
      return;
    }
    const publishTime = new Date(now).toISOString();
    const data = Buffer.from(JSON.stringify({ emailAddress: mailbox.address, historyId: record.id })).toString('base64');
    const body: PushBody = {
      message: { data, messageId, message_id: messageId, publishTime, publish_time: publishTime },
      subscription: this.subscription,
    };
    const copies = Math.max(1, mailbox.faults.duplicatePushes);
    const shuffle = mailbox.faults.shufflePushes;
    for (let copy = 0; copy < copies; copy += 1) {
      // A little jitter: deliveries start after the triggering request answered and may overtake each other.
      this.schedule(() => void this.attempt(body, user, 1), shuffle ? randomInt(5, SHUFFLE_MAX_DELAY_MS + 1) : randomInt(5, 40));
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const c of this.inFlight) c.abort();
    this.inFlight.clear();
  }

  private schedule(fn: () => void, delayMs: number): void {
    if (this.closed) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, delayMs);
    this.timers.add(timer);
  }

  /**
   * Pub/Sub puts one token on the pushes of a while instead of signing one per push (Google's push
   * samples: pushes handled by one push server "share the same token for a limited time window").
   */
  private token(): string {
    const now = this.opts.clock();
    if (this.signed && now >= this.signed.issuedAt && now - this.signed.issuedAt < TOKEN_REUSE_MS) return this.signed.token;
    const iat = Math.floor(now / 1000);
    const sub = numericSubjectId(this.opts.serviceAccount);
    const token = this.opts.keys.sign({
      aud: this.opts.audience,
      azp: sub,
      email: this.opts.serviceAccount,
      email_verified: true,
      exp: iat + 3600,
      iat,
      iss: 'https://accounts.google.com',
      sub,
    });
    this.signed = { token, issuedAt: now };
    return token;
  }

  private async attempt(body: PushBody, user: string, attempt: number): Promise<void> {
    if (this.closed) return;
    const controller = new AbortController();
    this.inFlight.add(controller);
    const timeout = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
    let status: number | undefined;
    try {
      const res = await fetch(this.opts.endpoint, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          Authorization: `Bearer ${this.token()}`,
          'User-Agent': 'APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)',
        },
        body: JSON.stringify(body),
        signal: controller.signal,
      });
      status = res.status;
      await res.arrayBuffer().catch(() => undefined);
    } catch {
      status = undefined;
    } finally {
      clearTimeout(timeout);
      this.inFlight.delete(controller);
    }
    if (this.closed) return;
    const acked = status !== undefined && ((status >= 200 && status < 300) || status === 102);
    const log = { user, pushMessageId: body.message.messageId, attempt, status: status ?? 'unreachable' };
    if (acked) {
      this.opts.logger.debug(log, 'sandbox push delivered');
      return;
    }
    if (attempt >= MAX_ATTEMPTS) {
      this.opts.logger.warn(log, 'sandbox push given up');
      return;
    }
    this.opts.logger.info(log, 'sandbox push not acknowledged, will retry');
    const backoff = FIRST_BACKOFF_MS * 2 ** (attempt - 1);
    this.schedule(() => void this.attempt(body, user, attempt + 1), backoff + randomInt(0, Math.ceil(backoff / 4)));
  }
}
