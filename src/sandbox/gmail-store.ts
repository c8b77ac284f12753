import type { Clock } from './clock';
import { noFaults, type FaultState } from './faults';
import { historyStep, initialHistoryId, newGmailId, normalizeEmail } from './ids';
import type { MailMetadata } from './mail-metadata';
import type { MimePart } from './mime-tree';
import { QuotaCounter } from './quota';

/**
 * The sandbox's mailboxes, in memory: messages, threads, the history log, the watch, what was
 * sent, plus the per-mailbox faults and quota. Mutations happen synchronously (one event-loop turn
 * per change), append a history record with a fresh, non-contiguous historyId and tell listeners
 * (the Pub/Sub push) about it.
 */

export const SYSTEM_LABELS = new Set([
  'INBOX', 'SENT', 'UNREAD', 'STARRED', 'IMPORTANT', 'SPAM', 'TRASH', 'DRAFT', 'CHAT',
  'CATEGORY_PERSONAL', 'CATEGORY_SOCIAL', 'CATEGORY_PROMOTIONS', 'CATEGORY_UPDATES', 'CATEGORY_FORUMS',
]);

export interface StoredMessage {
  id: string;
  threadId: string;
  labelIds: string[];
  raw: Buffer;
  internalDate: number;
  /** Id of the last history record that changed this message (Gmail's Message.historyId). */
  historyId: number;
  tree: MimePart;
  meta: MailMetadata;
  snippet: string;
}

export interface Thread {
  id: string;
  messageIds: string[];
}

export type HistoryType = 'messageAdded' | 'labelAdded' | 'labelRemoved';

export interface HistoryRecord {
  id: number;
  type: HistoryType;
  messageId: string;
  threadId: string;
  /** The message's labels right after the change. */
  labelIds: string[];
  /** Labels added or removed by a labelAdded/labelRemoved change. */
  changedLabelIds: string[];
}

export interface Watch {
  topicName: string;
  labelIds: string[];
  behavior: 'include' | 'exclude';
  expiration: number;
}

export interface SentItem {
  id: string;
  threadId: string;
  raw: Buffer;
}

export interface Mailbox {
  address: string;
  historyId: number;
  /** History ids below this are too old for history.list (404). */
  historyFloor: number;
  /** While expire_history is on: every id up to this one answers 404. */
  expiredUpTo?: number;
  messages: Map<string, StoredMessage>;
  threads: Map<string, Thread>;
  /** RFC 822 Message-ID (without <>) → Gmail ids of messages carrying it. */
  byMessageId: Map<string, string[]>;
  history: HistoryRecord[];
  watch?: Watch;
  sent: SentItem[];
  faults: FaultState;
  quota: QuotaCounter;
}

export interface NewMessage {
  raw: Buffer;
  tree: MimePart;
  meta: MailMetadata;
  snippet: string;
  labelIds: string[];
  /** Existing thread to join; a new thread (id = the message id) otherwise. */
  threadId?: string;
}

export type ChangeListener = (mailbox: Mailbox, record: HistoryRecord, message: StoredMessage) => void;

export class GmailStore {
  private readonly mailboxes = new Map<string, Mailbox>();
  private readonly listeners: ChangeListener[] = [];

  constructor(private readonly clock: Clock) {}

  onChange(listener: ChangeListener): void {
    this.listeners.push(listener);
  }

  find(address: string): Mailbox | undefined {
    return this.mailboxes.get(normalizeEmail(address));
  }

  getOrCreate(address: string): Mailbox {
    const key = normalizeEmail(address);
    let mailbox = this.mailboxes.get(key);
    if (!mailbox) {
      const start = initialHistoryId(this.clock());
      mailbox = {
        address: key,
        historyId: start,
        historyFloor: start,
        messages: new Map(),
        threads: new Map(),
        byMessageId: new Map(),
        history: [],
        sent: [],
        faults: noFaults(),
        quota: new QuotaCounter(),
      };
      this.mailboxes.set(key, mailbox);
    }
    return mailbox;
  }

  addMessage(mailbox: Mailbox, input: NewMessage): StoredMessage {
    const now = this.clock();
    let id = newGmailId(now);
    while (mailbox.messages.has(id)) id = newGmailId(now);
    const thread = input.threadId ? mailbox.threads.get(input.threadId) : undefined;
    const threadId = thread ? thread.id : id;
    const message: StoredMessage = {
      id,
      threadId,
      labelIds: [...new Set(input.labelIds)],
      raw: input.raw,
      internalDate: now,
      historyId: 0,
      tree: input.tree,
      meta: input.meta,
      snippet: input.snippet,
    };
    mailbox.messages.set(id, message);
    if (thread) thread.messageIds.push(id);
    else mailbox.threads.set(id, { id, messageIds: [id] });
    if (input.meta.messageId) {
      const list = mailbox.byMessageId.get(input.meta.messageId) ?? [];
      list.push(id);
      mailbox.byMessageId.set(input.meta.messageId, list);
    }
    this.record(mailbox, message, 'messageAdded', message.labelIds);
    return message;
  }

  /** Adds/removes labels; one history record per kind of change that really happened. */
  modifyLabels(mailbox: Mailbox, message: StoredMessage, add: string[], remove: string[]): void {
    const added = [...new Set(add)].filter((l) => !message.labelIds.includes(l) && !remove.includes(l));
    const removed = [...new Set(remove)].filter((l) => message.labelIds.includes(l));
    if (added.length > 0) {
      message.labelIds = [...message.labelIds, ...added];
      this.record(mailbox, message, 'labelAdded', added);
    }
    if (removed.length > 0) {
      message.labelIds = message.labelIds.filter((l) => !removed.includes(l));
      this.record(mailbox, message, 'labelRemoved', removed);
    }
  }

  /**
   * Deletes a message for good (as users.messages.delete does). Its history records stay, so a
   * history walk still lists it and messages.get answers 404, as Gmail does for mail deleted
   * between a notification and the fetch. Returns whether it existed.
   */
  deleteMessage(mailbox: Mailbox, id: string): boolean {
    const message = mailbox.messages.get(id);
    if (!message) return false;
    mailbox.messages.delete(id);
    const thread = mailbox.threads.get(message.threadId);
    if (thread) {
      thread.messageIds = thread.messageIds.filter((m) => m !== id);
      if (thread.messageIds.length === 0) mailbox.threads.delete(thread.id);
    }
    if (message.meta.messageId) {
      const left = (mailbox.byMessageId.get(message.meta.messageId) ?? []).filter((m) => m !== id);
      if (left.length > 0) mailbox.byMessageId.set(message.meta.messageId, left);
      else mailbox.byMessageId.delete(message.meta.messageId);
    }
    return true;
  }

  /** Messages of a thread in internalDate order. */
  threadMessages(mailbox: Mailbox, threadId: string): StoredMessage[] {
    const thread = mailbox.threads.get(threadId);
    if (!thread) return [];
    return thread.messageIds
      .map((id) => mailbox.messages.get(id))
      .filter((m): m is StoredMessage => m !== undefined)
      .sort((a, b) => a.internalDate - b.internalDate);
  }

  private record(mailbox: Mailbox, message: StoredMessage, type: HistoryType, changed: string[]): void {
    mailbox.historyId += historyStep();
    const record: HistoryRecord = {
      id: mailbox.historyId,
      type,
      messageId: message.id,
      threadId: message.threadId,
      labelIds: [...message.labelIds],
      changedLabelIds: [...changed],
    };
    message.historyId = record.id;
    mailbox.history.push(record);
    for (const listener of this.listeners) listener(mailbox, record, message);
  }
}
