/**
 * Decodes a Pub/Sub push delivery of a Gmail notification:
 * `{message: {data: base64(JSON {emailAddress, historyId}), messageId, ...}, subscription}`.
 * historyId arrives as a number from Gmail and as a string from some relays; both are accepted.
 */
export interface GmailNotification {
  emailAddress: string;
  historyId: string;
  pubsubMessageId: string | null;
}

export class UnreadablePushError extends Error {}

const MAX_UINT64 = 2n ** 64n - 1n;

export function decodePushBody(body: unknown): GmailNotification {
  if (!body || typeof body !== 'object') throw new UnreadablePushError('body is not an object');
  const message = (body as { message?: unknown }).message;
  if (!message || typeof message !== 'object') throw new UnreadablePushError('no message');
  const data = (message as { data?: unknown }).data;
  if (typeof data !== 'string' || data.length === 0) throw new UnreadablePushError('no message.data');
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(data, 'base64').toString('utf8'));
  } catch {
    throw new UnreadablePushError('message.data is not base64 JSON');
  }
  const { emailAddress, historyId } = (decoded ?? {}) as { emailAddress?: unknown; historyId?: unknown };
  if (typeof emailAddress !== 'string' || !emailAddress.includes('@')) throw new UnreadablePushError('no emailAddress');
  const history = typeof historyId === 'number' && Number.isSafeInteger(historyId) && historyId >= 0 ? String(historyId) : historyId;
  // Gmail's historyId is a uint64: up to 20 digits, and no more than 2^64 - 1
  if (typeof history !== 'string' || !/^[0-9]{1,20}$/.test(history) || BigInt(history) > MAX_UINT64) {
    throw new UnreadablePushError('no valid historyId');
  }
  const id = (message as { messageId?: unknown; message_id?: unknown }).messageId ?? (message as { message_id?: unknown }).message_id;
  return { emailAddress, historyId: history, pubsubMessageId: typeof id === 'string' ? id : null };
}
