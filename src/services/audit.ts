import type { Knex } from 'knex';

/** Who did what to which entity, when and under which request or job. Never content or addresses. */
export interface AuditEvent {
  actorType: 'user' | 'admin' | 'system';
  actorUserId?: string | null;
  subjectUserId?: string | null;
  action: string;
  entityType?: string;
  entityId?: string;
  metadata?: Record<string, string | number | boolean | null>;
}

export interface AuditContext {
  requestId?: string;
  jobId?: string;
}

export type AuditLog = (event: AuditEvent, at: AuditContext, trx?: Knex.Transaction) => Promise<void>;

/** The audit_log row of an event, for callers that write it in a statement of their own. */
export function auditRow(event: AuditEvent, at: AuditContext): Record<string, unknown> {
  return {
    actor_type: event.actorType,
    actor_user_id: event.actorUserId ?? null,
    subject_user_id: event.subjectUserId ?? event.actorUserId ?? null,
    action: event.action,
    entity_type: event.entityType ?? null,
    entity_id: event.entityId ?? null,
    request_id: at.requestId ?? null,
    job_id: at.jobId ?? null,
    metadata: event.metadata ?? {},
  };
}

export function createAuditLog(db: Knex): AuditLog {
  return async (event, at, trx) => {
    await (trx ?? db)('audit_log').insert(auditRow(event, at));
  };
}
