import type { GmailStore, Mailbox } from './gmail-store';
import type { MailMetadata } from './mail-metadata';

/**
 * Gmail's documented threading rule: a message joins a thread only when (1) the thread is named
 * (messages.send) or found through References/In-Reply-To (incoming mail), (2) the References or
 * In-Reply-To header names a message of that thread, and (3) the Subject matches the thread's,
 * ignoring reply/forward prefixes. Otherwise it starts a new thread.
 */

const PREFIX = /^\s*(?:(?:re|fwd?|aw|wg|sv|vs|antw|tr|rif|r)\s*(?:\[\d+\]|\(\d+\))?\s*[:：]\s*)+/i;

export function normalizeSubject(subject: string): string {
  let s = subject.replace(/\s+/g, ' ').trim();
  let previous: string;
  do {
    previous = s;
    s = s.replace(PREFIX, '').trim();
  } while (s !== previous);
  return s.toLowerCase();
}

function referencedIds(meta: MailMetadata): string[] {
  return [...new Set([...meta.inReplyTo, ...meta.references])];
}

function threadSubject(store: GmailStore, mailbox: Mailbox, threadId: string): string | undefined {
  const first = store.threadMessages(mailbox, threadId)[0];
  return first ? normalizeSubject(first.meta.subject) : undefined;
}

/** True when a message with `meta` may join the existing thread `threadId`. */
export function canJoinThread(store: GmailStore, mailbox: Mailbox, threadId: string, meta: MailMetadata): boolean {
  const thread = mailbox.threads.get(threadId);
  if (!thread) return false;
  if (threadSubject(store, mailbox, threadId) !== normalizeSubject(meta.subject)) return false;
  const members = new Set(thread.messageIds);
  return referencedIds(meta).some((rfcId) => (mailbox.byMessageId.get(rfcId) ?? []).some((gid) => members.has(gid)));
}

/** The thread an incoming message belongs to, found from its References/In-Reply-To, if any. */
export function findThreadByReferences(store: GmailStore, mailbox: Mailbox, meta: MailMetadata): string | undefined {
  const subject = normalizeSubject(meta.subject);
  // The most recent reference is the most specific, so look from the end.
  for (const rfcId of referencedIds(meta).reverse()) {
    for (const gid of mailbox.byMessageId.get(rfcId) ?? []) {
      const message = mailbox.messages.get(gid);
      if (message && threadSubject(store, mailbox, message.threadId) === subject) return message.threadId;
    }
  }
  return undefined;
}
