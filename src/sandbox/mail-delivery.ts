import libmime from 'libmime';
import type Headers from '@zone-eu/mailsplit/lib/headers';
import type { Logger } from '../observability/logger';
import type { Clock } from './clock';
import { gmailErrors } from './google-errors';
import type { GmailStore, Mailbox, StoredMessage } from './gmail-store';
import { gmailStyleMessageId, numericSubjectId, randomToken } from './ids';
import { readMailMetadata, snippetOf, type MailMetadata } from './mail-metadata';
import { parseMimeTree } from './mime-tree';
import { rewriteRootHeaders } from './header-rewrite';
import { canJoinThread, findThreadByReferences } from './threading';

/**
 * What Gmail does to a message it accepts, and where it files it:
 * - incoming mail gets trace headers (Delivered-To, Received, Return-Path) and a Message-ID if it
 *   had none, lands in INBOX + UNREAD (+ CATEGORY_PERSONAL), and is threaded by its references;
 * - sent mail has its From forced to the mailbox, a Date added if missing, its Message-ID replaced
 *   by a Gmail one, is labelled SENT, threaded by the documented rule, and copied into the INBOX of
 *   every recipient that is a sandbox mailbox (Bcc stripped from the copies).
 */

export const INCOMING_LABELS = ['INBOX', 'UNREAD', 'CATEGORY_PERSONAL'];

export interface SendResult {
  message: StoredMessage;
  copies: number;
}

export class MailDelivery {
  constructor(
    private readonly store: GmailStore,
    private readonly logger: Logger,
    private readonly clock: Clock,
  ) {}

  /** Delivers a message arriving from outside into `mailbox`. */
  async deliverIncoming(mailbox: Mailbox, raw: Buffer, requestedThreadId?: string): Promise<StoredMessage> {
    const original = await readMailMetadata(raw);
    const withTrace = await rewriteRootHeaders(raw, (h) => {
      if (!h.hasHeader('message-id')) h.add('Message-ID', `<${randomToken(24)}@mx.google.com>`, h.getList().length);
      this.addTraceHeaders(h, mailbox.address, original.from[0]);
    });
    const parsed = await prepare(withTrace);
    const labels = [...INCOMING_LABELS];
    if (parsed.meta.from.includes(mailbox.address)) labels.push('SENT');
    const threadId = requestedThreadId && mailbox.threads.has(requestedThreadId)
      ? requestedThreadId
      : findThreadByReferences(this.store, mailbox, parsed.meta);
    const message = this.store.addMessage(mailbox, { ...parsed, labelIds: labels, threadId });
    this.logger.info({ user: numericSubjectId(mailbox.address), messageId: message.id, threadId: message.threadId, bytes: withTrace.length }, 'sandbox mail delivered');
    return message;
  }

  /**
   * messages.send. Throws GoogleApiError for requests Gmail refuses. `beforeStore` runs after
   * validation and before anything is stored (the place where a fault can make it fail).
   */
  async send(mailbox: Mailbox, raw: Buffer, requestedThreadId: string | undefined, beforeStore: () => void = () => undefined): Promise<SendResult> {
    let original: MailMetadata;
    try {
      original = await readMailMetadata(raw);
    } catch {
      throw gmailErrors.invalidArgument('Invalid RFC822 payload.');
    }
    const recipients = [...new Set([...original.to, ...original.cc, ...original.bcc])];
    if (recipients.length === 0) throw gmailErrors.invalidArgument('Recipient address required');
    if (requestedThreadId !== undefined && !mailbox.threads.has(requestedThreadId)) throw gmailErrors.notFound();

    const rewritten = await rewriteRootHeaders(raw, (h) => {
      if (original.from[0] !== mailbox.address) h.update('From', formatAddress(original.fromName, mailbox.address));
      if (!h.hasHeader('date')) h.add('Date', rfc2822Date(this.clock()), h.getList().length);
      if (h.hasHeader('message-id')) h.update('Message-ID', gmailStyleMessageId());
      else h.add('Message-ID', gmailStyleMessageId(), h.getList().length);
    });
    const parsed = await prepare(rewritten);
    const threadId = requestedThreadId !== undefined && canJoinThread(this.store, mailbox, requestedThreadId, parsed.meta) ? requestedThreadId : undefined;
    const labels = recipients.includes(mailbox.address) ? ['SENT', 'INBOX'] : ['SENT'];

    beforeStore();
    const message = this.store.addMessage(mailbox, { ...parsed, labelIds: labels, threadId });
    mailbox.sent.push({ id: message.id, threadId: message.threadId, raw: rewritten });
    this.logger.info(
      { user: numericSubjectId(mailbox.address), messageId: message.id, threadId: message.threadId, joinedThread: threadId !== undefined, recipients: recipients.length },
      'sandbox mail sent',
    );

    let copies = 0;
    for (const address of recipients) {
      const target = address === mailbox.address ? undefined : this.store.find(address);
      if (!target) continue;
      const copy = await rewriteRootHeaders(rewritten, (h) => {
        h.remove('bcc');
        this.addTraceHeaders(h, target.address, mailbox.address);
      });
      const copyParsed = await prepare(copy);
      const copyThread = findThreadByReferences(this.store, target, copyParsed.meta);
      const delivered = this.store.addMessage(target, { ...copyParsed, labelIds: [...INCOMING_LABELS], threadId: copyThread });
      this.logger.info({ user: numericSubjectId(target.address), messageId: delivered.id, threadId: delivered.threadId }, 'sandbox mail delivered to sandbox recipient');
      copies += 1;
    }
    return { message, copies };
  }

  private addTraceHeaders(h: Headers, recipient: string, sender: string | undefined): void {
    if (!h.hasHeader('return-path')) h.add('Return-Path', `<${sender ?? ''}>`);
    h.add('Received', `from mail-sor-f41.google.com (mail-sor-f41.google.com. [209.85.220.41]) by mx.google.com with SMTPS id ${randomToken(9)}; ${rfc2822Date(this.clock())}`);
    h.add('Delivered-To', recipient);
  }
}

interface Prepared {
  raw: Buffer;
  tree: Awaited<ReturnType<typeof parseMimeTree>>;
  meta: MailMetadata;
  snippet: string;
}

async function prepare(raw: Buffer): Promise<Prepared> {
  const [tree, meta] = await Promise.all([parseMimeTree(raw), readMailMetadata(raw)]);
  return { raw, tree, meta, snippet: snippetOf(meta.text) };
}

export function rfc2822Date(ms: number): string {
  return new Date(ms).toUTCString().replace('GMT', '+0000');
}

function formatAddress(name: string | undefined, address: string): string {
  if (!name) return address;
  if (/[^\x20-\x7e]/.test(name)) return `${libmime.encodeWords(name, 'Q', 52)} <${address}>`;
  if (/[()<>\[\]:;@\\,."]/.test(name)) return `"${name.replace(/(["\\])/g, '\\$1')}" <${address}>`;
  return `${name} <${address}>`;
}
