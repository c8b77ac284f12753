import { pageQueryProperties } from './common';

/** Schemas of the audit trail: GET /api/audit (one's own) and GET /admin/audit (all, operators). */

const nullableString = { type: ['string', 'null'] } as const;
const dateTime = { type: 'string', format: 'date-time' } as const;

export const auditEntry = {
  type: 'object',
  properties: {
    id: { type: 'string', pattern: '^[0-9]+$', description: 'Increasing record number.' },
    occurred_at: dateTime,
    actor_type: { type: 'string', enum: ['user', 'admin', 'system'], description: 'Who acted: the user, an operator, or the product itself (a job).' },
    actor_user_id: { type: ['string', 'null'], format: 'uuid', description: 'The acting user or operator, when a person acted.' },
    subject_user_id: { type: ['string', 'null'], format: 'uuid', description: 'The user whose account or data the action concerns.' },
    action: { type: 'string', description: 'What happened, e.g. `auth.sign_in`, `contact.update`, `message.received`, `reply.skipped`.' },
    entity_type: { ...nullableString, description: 'Kind of the entity acted on: user, contact, message, reply.' },
    entity_id: { ...nullableString, description: 'Its id.' },
    request_id: { ...nullableString, description: 'The HTTP request that did it or caused it (also in the logs).' },
    job_id: { ...nullableString, description: 'The background job that did it.' },
    metadata: { type: 'object', description: 'Ids, flags and reasons (e.g. `reason` of a skipped reply); never content or addresses.' },
  },
  required: ['id', 'occurred_at', 'actor_type', 'actor_user_id', 'subject_user_id', 'action', 'entity_type', 'entity_id', 'request_id', 'job_id', 'metadata'],
  additionalProperties: false,
} as const;

export const auditPage = {
  type: 'object',
  properties: {
    items: { type: 'array', items: auditEntry },
    next_cursor: { type: ['string', 'null'], description: 'Pass as `cursor` to get the next page; null when there is none.' },
  },
  required: ['items', 'next_cursor'],
  additionalProperties: false,
} as const;

export const auditQuery = {
  type: 'object',
  properties: pageQueryProperties,
  additionalProperties: false,
} as const;

export const adminAuditQuery = {
  type: 'object',
  properties: {
    ...pageQueryProperties,
    user_id: { type: 'string', format: 'uuid', description: "Only records about this user's account and data." },
    action: { type: 'string', pattern: '^[a-z_]+\\.[a-z_]+$', maxLength: 64, description: 'Only records of this action.' },
  },
  additionalProperties: false,
} as const;
