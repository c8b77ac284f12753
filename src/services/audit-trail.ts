import type { Knex } from 'knex';
import { decodeCursor, isBigintString, toPage, type Page } from './pagination';

/** One audit record as the API shows it: ids, the action and its reasons, never content. */
export interface AuditEntryView {
  id: string;
  occurred_at: string;
  actor_type: string;
  actor_user_id: string | null;
  subject_user_id: string | null;
  action: string;
  entity_type: string | null;
  entity_id: string | null;
  request_id: string | null;
  job_id: string | null;
  metadata: Record<string, unknown>;
}

interface AuditRow {
  id: string;
  occurred_at: Date;
  actor_type: string;
  actor_user_id: string | null;
  subject_user_id: string | null;
  action: string;
  entity_type: string | null;
  entity_id: string | null;
  request_id: string | null;
  job_id: string | null;
  metadata: Record<string, unknown>;
}

export interface AuditPageInput {
  limit: number;
  cursor?: string;
}


function view(row: AuditRow): AuditEntryView {
  return { ...row, id: String(row.id), occurred_at: row.occurred_at.toISOString() };
}

/** Reads the audit trail newest first, keyset-paginated on the record id. */
export function createAuditTrail(db: Knex) {
  async function page(filter: { subjectUserId?: string; action?: string }, q: AuditPageInput): Promise<Page<AuditEntryView>> {
    const query = db<AuditRow>('audit_log').orderBy('id', 'desc').limit(q.limit + 1);
    if (filter.subjectUserId) query.where('subject_user_id', filter.subjectUserId);
    if (filter.action) query.where('action', filter.action);
    if (q.cursor) {
      const [id] = decodeCursor('audit', q.cursor, [isBigintString]);
      query.where('id', '<', id as string);
    }
    const rows = (await query) as AuditRow[];
    return toPage('audit', rows, q.limit, (r) => [String(r.id)], view);
  }
  return {
    /** What happened to one user's account and data (records whose subject is that user). */
    listForUser(userId: string, q: AuditPageInput): Promise<Page<AuditEntryView>> {
      return page({ subjectUserId: userId }, q);
    },
    /** Every record, for operators; optionally one user's or one action's. */
    listAll(q: AuditPageInput & { user_id?: string; action?: string }): Promise<Page<AuditEntryView>> {
      return page({ subjectUserId: q.user_id, action: q.action }, q);
    },
  };
}

export type AuditTrail = ReturnType<typeof createAuditTrail>;
