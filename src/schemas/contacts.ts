import { dateTime, pageOf, pageQueryProperties, uuid } from './common';

// RFC 5321 limits: 64 characters before the @, 254 in all.
const email = { type: 'string', format: 'email', minLength: 3, maxLength: 254, pattern: '^[^@]{1,64}@', examples: ['anna@example.org'] } as const;
// Shown in mail headers: printable text with at least one visible character; no control characters,
// no bidirectional overrides (they make a name read as something else) and no noncharacters.
const NAME_FORBIDDEN = '\\u0000-\\u001f\\u007f\\u202a-\\u202e\\u2066-\\u2069\\ufffe\\uffff';
const NAME_INVISIBLE = '\\s\\u200b-\\u200f\\u2060\\ufeff';
const name = {
  type: 'string',
  minLength: 1,
  maxLength: 200,
  pattern: `^[^${NAME_FORBIDDEN}]*[^${NAME_INVISIBLE}${NAME_FORBIDDEN}][^${NAME_FORBIDDEN}]*$`,
  description: 'Printable text with at least one visible character (no control characters or bidirectional overrides).',
  examples: ['Anna Petrova'],
} as const;
const descriptionAi = {
  type: 'string',
  maxLength: 20000,
  pattern: '^[^\\u0000]*$',
  description: 'The instruction for the assistant: who this person is, what the conversation is for, tone, limits.',
  examples: ['Supplier of our parts. Confirm delivery dates politely; never agree to price changes.'],
} as const;
const isActive = { type: 'boolean' } as const;

export const createContactBody = {
  type: 'object',
  properties: { email, name, description_ai: descriptionAi, is_active: isActive },
  required: ['email', 'name'],
  additionalProperties: false,
} as const;

export const updateContactBody = {
  type: 'object',
  properties: { email, name, description_ai: descriptionAi, is_active: isActive },
  minProperties: 1,
  additionalProperties: false,
} as const;

export const listContactsQuery = {
  type: 'object',
  properties: {
    ...pageQueryProperties,
    is_active: { type: 'boolean', description: 'Only active (true) or only inactive (false) contacts.' },
    include_deleted: { type: 'boolean', default: false, description: 'Also list soft-deleted contacts.' },
  },
  additionalProperties: false,
} as const;

export const contactResponse = {
  type: 'object',
  properties: {
    id: uuid,
    email: { type: 'string' },
    name: { type: 'string' },
    description_ai: { type: 'string', description: 'The instruction for the assistant about this contact.' },
    is_active: { type: 'boolean', description: 'Whether the assistant answers this contact.' },
    deleted_at: { type: ['string', 'null'], format: 'date-time', description: 'When it was soft-deleted; null while live.' },
    created_at: dateTime,
    updated_at: dateTime,
  },
  required: ['id', 'email', 'name', 'description_ai', 'is_active', 'deleted_at', 'created_at', 'updated_at'],
  additionalProperties: false,
} as const;

export const contactPage = pageOf(contactResponse);

export interface CreateContactInput {
  email: string;
  name: string;
  description_ai?: string;
  is_active?: boolean;
}

export type UpdateContactInput = Partial<CreateContactInput>;

export interface ListContactsInput {
  limit: number;
  cursor?: string;
  is_active?: boolean;
  include_deleted: boolean;
}
