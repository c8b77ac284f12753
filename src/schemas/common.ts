/** Schemas shared by several routes. Every request schema is also an OpenAPI schema. */

export const uuidParam = { type: 'string', format: 'uuid' } as const;

export const idParams = {
  type: 'object',
  properties: { id: uuidParam },
  required: ['id'],
  additionalProperties: false,
} as const;

export const MAX_PAGE_SIZE = 200;
export const DEFAULT_PAGE_SIZE = 50;

export const pageQueryProperties = {
  limit: { type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE },
  cursor: { type: 'string', minLength: 1, maxLength: 512 },
} as const;

export const pageQuery = {
  type: 'object',
  properties: pageQueryProperties,
  additionalProperties: false,
} as const;

export const errorBody = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: {
        code: { type: 'string' },
        message: { type: 'string' },
        details: { type: 'array', items: { type: 'object' } },
      },
      required: ['code', 'message', 'details'],
    },
  },
  required: ['error'],
} as const;
