import { expect } from 'chai';
import { HttpClient, waitFor } from './http-client';
import type { TestSystem } from './system';

export interface Delivered {
  id: string;
  thread_id: string;
  message_id: string;
}

export interface HistoryItem {
  id: string;
  contact_id: string;
  message_direction: 'sent' | 'received';
  subject: string;
  message_text: string;
  timestamp: string;
  gmail_thread_id: string;
}

export interface SentItem {
  id: string;
  thread_id: string;
  raw: string;
  headers: Record<string, string>;
}

/** Delivers a whole RFC 822 message to a sandbox mailbox (which pushes the Gmail notification). */
export async function deliverRaw(baseUrl: string, mailbox: string, raw: Buffer): Promise<Delivered> {
  const res = await new HttpClient(baseUrl).post<Delivered>(`/sandbox/gmail/mailboxes/${encodeURIComponent(mailbox)}/incoming`, { raw: raw.toString('base64') });
  expect(res.status, res.text).to.be.oneOf([200, 201]);
  return res.body;
}

export async function setFaults(baseUrl: string, mailbox: string, faults: Record<string, unknown>): Promise<void> {
  const res = await new HttpClient(baseUrl).post(`/sandbox/gmail/mailboxes/${encodeURIComponent(mailbox)}/faults`, faults);
  expect(res.status, res.text).to.equal(200);
}

export async function sentItems(baseUrl: string, mailbox: string): Promise<SentItem[]> {
  const res = await new HttpClient(baseUrl).get<{ items: SentItem[] }>(`/sandbox/gmail/mailboxes/${encodeURIComponent(mailbox)}/sent`);
  expect(res.status).to.equal(200);
  return res.body.items;
}

export function header(item: SentItem, name: string): string | undefined {
  const key = Object.keys(item.headers).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : item.headers[key];
}

export async function history(client: HttpClient, contactId: string): Promise<HistoryItem[]> {
  const res = await client.get<{ items: HistoryItem[] }>(`/api/contacts/${contactId}/messages?limit=200`);
  expect(res.status).to.equal(200);
  return res.body.items;
}

/** Waits until the history with a contact shows the given number of received and sent messages. */
export async function waitForHistory(client: HttpClient, contactId: string, want: { received: number; sent: number }, timeoutMs = 20000): Promise<HistoryItem[]> {
  return waitFor(
    `history with ${want.received} received / ${want.sent} sent`,
    async () => {
      const items = await history(client, contactId);
      const received = items.filter((m) => m.message_direction === 'received').length;
      const sent = items.filter((m) => m.message_direction === 'sent').length;
      return received >= want.received && sent >= want.sent ? items : undefined;
    },
    timeoutMs,
  );
}

/** Replaces the From header (and its folded continuation lines) of a raw message, or adds one. */
export function rewriteFrom(raw: Buffer, from: string): Buffer {
  const text = raw.toString('latin1');
  const split = text.search(/\r?\n\r?\n/);
  const headerBlock = split === -1 ? text : text.slice(0, split);
  const rest = split === -1 ? '' : text.slice(split);
  const eol = headerBlock.includes('\r\n') ? '\r\n' : '\n';
  const lines = headerBlock.split(/\r?\n/);
  const out: string[] = [];
  let replaced = false;
  let skipping = false;
  for (const line of lines) {
    if (skipping && /^[ \t]/.test(line)) continue;
    skipping = false;
    if (/^from:/i.test(line) && !replaced) {
      out.push(`From: ${from}`);
      replaced = true;
      skipping = true;
      continue;
    }
    out.push(line);
  }
  if (!replaced) out.unshift(`From: ${from}`);
  return Buffer.from(out.join(eol) + rest, 'latin1');
}

/**
 * Waits until no job of the system is waiting, active or delayed (the maintenance queue always
 * holds its next scheduled run, delayed: only its running jobs count).
 */
export async function waitForIdle(system: TestSystem): Promise<void> {
  await waitFor('queues to drain', async () => {
    for (const queue of system.container.queues.all) {
      const states = queue.name === 'maintenance' ? (['waiting', 'active'] as const) : (['waiting', 'active', 'delayed', 'prioritized', 'waiting-children'] as const);
      const counts = await queue.getJobCounts(...states);
      if (Object.values(counts).some((n) => n > 0)) return false;
    }
    return true;
  });
}
