import { randomInt } from 'node:crypto';
import { numericSubjectId } from '../../../src/sandbox/ids';
import type { TestSystem } from '../../support/system';

/**
 * Delivers a Gmail push notification by hand, signed the way the sandbox's Pub/Sub signs its own,
 * carrying any historyId: a stale one (at or below the cursor) must be answered 2xx and never
 * cause a second answer. Returns the webhook's status.
 */
export async function pushNotification(system: TestSystem, emailAddress: string, historyId: string): Promise<number> {
  const { pushAudience, pushServiceAccount } = system.container.config.google;
  const iat = Math.floor(Date.now() / 1000);
  const sub = numericSubjectId(pushServiceAccount);
  const token = system.sandbox!.signToken({
    aud: pushAudience,
    azp: sub,
    email: pushServiceAccount,
    email_verified: true,
    exp: iat + 3600,
    iat,
    iss: 'https://accounts.google.com',
    sub,
  });
  const messageId = String(randomInt(1_000_000_000, 2_000_000_000));
  const publishTime = new Date().toISOString();
  const data = Buffer.from(JSON.stringify({ emailAddress, historyId })).toString('base64');
  const res = await fetch(`${system.baseUrl}/webhooks/gmail`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({
      message: { data, messageId, message_id: messageId, publishTime, publish_time: publishTime },
      subscription: 'projects/sandbox-project/subscriptions/gmail-push',
    }),
  });
  await res.arrayBuffer();
  return res.status;
}
