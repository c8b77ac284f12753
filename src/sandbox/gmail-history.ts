import { gmailErrors } from './google-errors';
import type { HistoryRecord, HistoryType, Mailbox } from './gmail-store';
import { decodePageToken, encodePageToken } from './page-token';

/**
 * users.history.list over a mailbox's history log, as Gmail answers it: records with an id greater
 * than startHistoryId, oldest first, optionally filtered by historyTypes and labelId, paged with an
 * opaque token; `history` is left out when there is nothing to report; ids below the retention
 * floor (or all ids stored so far, while the expire_history fault is on) answer 404.
 */

export const HISTORY_TYPES: readonly string[] = ['messageAdded', 'messageDeleted', 'labelAdded', 'labelRemoved'];

interface MessageRef {
  id: string;
  threadId: string;
}

interface MessageWithLabels extends MessageRef {
  labelIds: string[];
}

export interface HistoryResource {
  id: string;
  messages: MessageRef[];
  messagesAdded?: Array<{ message: MessageWithLabels }>;
  labelsAdded?: Array<{ message: MessageWithLabels; labelIds: string[] }>;
  labelsRemoved?: Array<{ message: MessageWithLabels; labelIds: string[] }>;
}

export interface HistoryListResponse {
  history?: HistoryResource[];
  nextPageToken?: string;
  historyId: string;
}

export interface HistoryQuery {
  startHistoryId?: string;
  historyTypes: string[];
  labelId?: string;
  maxResults?: string;
  pageToken?: string;
}

export function listHistory(mailbox: Mailbox, q: HistoryQuery): HistoryListResponse {
  if (q.startHistoryId === undefined || q.startHistoryId === '') throw gmailErrors.invalidArgument('Missing required field: startHistoryId');
  if (!/^\d{1,19}$/.test(q.startHistoryId)) throw gmailErrors.invalidArgument(`Invalid value at 'start_history_id' (TYPE_UINT64), "${q.startHistoryId.slice(0, 40)}"`);
  const start = Number(q.startHistoryId);
  for (const t of q.historyTypes) {
    if (!HISTORY_TYPES.includes(t)) throw gmailErrors.invalidArgument(`Invalid value at 'history_types' (type.googleapis.com/gmail.HistoryType), "${t.slice(0, 40)}"`);
  }
  const maxResults = clamp(q.maxResults, 100, 500);
  if (start < mailbox.historyFloor || (mailbox.expiredUpTo !== undefined && start <= mailbox.expiredUpTo)) throw gmailErrors.notFound();

  let after = start;
  if (q.pageToken) {
    const decoded = decodePageToken(q.pageToken);
    if (decoded === undefined) throw gmailErrors.invalidArgument('Invalid pageToken');
    after = Math.max(after, decoded);
  }
  const types = q.historyTypes as HistoryType[];
  const matching = mailbox.history.filter(
    (r) => r.id > after && (types.length === 0 || types.includes(r.type)) && (q.labelId === undefined || touches(r, q.labelId)),
  );
  const page = matching.slice(0, maxResults);
  const response: HistoryListResponse = { historyId: String(mailbox.historyId) };
  if (page.length > 0) response.history = page.map(toResource);
  const last = page.at(-1);
  if (matching.length > page.length && last) response.nextPageToken = encodePageToken(last.id);
  return response;
}

function touches(r: HistoryRecord, labelId: string): boolean {
  return r.labelIds.includes(labelId) || r.changedLabelIds.includes(labelId);
}

function toResource(r: HistoryRecord): HistoryResource {
  const ref = { id: r.messageId, threadId: r.threadId };
  const message = { ...ref, labelIds: [...r.labelIds] };
  const out: HistoryResource = { id: String(r.id), messages: [ref] };
  if (r.type === 'messageAdded') out.messagesAdded = [{ message }];
  if (r.type === 'labelAdded') out.labelsAdded = [{ message, labelIds: [...r.changedLabelIds] }];
  if (r.type === 'labelRemoved') out.labelsRemoved = [{ message, labelIds: [...r.changedLabelIds] }];
  return out;
}

export function clamp(value: string | undefined, fallback: number, max: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw gmailErrors.invalidArgument(`Invalid value for maxResults: ${value.slice(0, 20)}`);
  return Math.min(n, max);
}
