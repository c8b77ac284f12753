import { randomInt } from 'node:crypto';
import type { Logger } from '../../observability/logger';
import type { Clock } from '../clock';
import { SHUFFLE_MAX_DELAY_MS } from '../faults';
import type { HistoryRecord, Mailbox } from '../gmail-store';
import { numericSubjectId } from '../ids';
import { watchAllows } from '../pubsub-push';
import type { PubsubBroker } from './broker';

/**
 * Gmail → Pub/Sub topic, for pull subscribers: for every history change that passes the mailbox's
 * watch filter, the notification Gmail publishes (data = JSON {emailAddress, historyId}) goes to
 * the watch's topic in the sandbox Pub/Sub. The mailbox's push faults apply here too:
 * drop_pushes publishes nothing, duplicate_pushes n delivers the same message n times,
 * shuffle_pushes holds each delivery back for a random time so that they arrive out of order.
 */
export class GmailPublisher {
  constructor(private readonly broker: PubsubBroker, private readonly logger: Logger, private readonly clock: Clock) {}

  notify(mailbox: Mailbox, record: HistoryRecord): void {
    const watch = mailbox.watch;
    if (!watch || watch.expiration <= this.clock() || !watchAllows(watch, record)) return;
    const user = numericSubjectId(mailbox.address);
    if (mailbox.faults.dropPushes) {
      this.logger.info({ user, historyId: record.id }, 'sandbox pull notification dropped (fault)');
      return;
    }
    const data = Buffer.from(JSON.stringify({ emailAddress: mailbox.address, historyId: record.id }));
    const copies = Math.max(1, mailbox.faults.duplicatePushes);
    const delayMs = mailbox.faults.shufflePushes ? () => randomInt(5, SHUFFLE_MAX_DELAY_MS + 1) : undefined;
    try {
      const [messageId] = this.broker.publish(watch.topicName, [{ data }], { copies, delayMs });
      this.logger.debug({ user, pubsubMessageId: messageId, historyId: record.id, copies }, 'sandbox notification published');
    } catch (err) {
      // Like Gmail, a notification for a topic that cannot take it is lost, not an error of the change.
      this.logger.warn({ user, historyId: record.id, err: { message: (err as Error).message } }, 'sandbox notification not published');
    }
  }
}
