/** Schemas shared by several routes. Each request schema validates input and appears in the OpenAPI document. */

export const uuid = { type: 'string', format: 'uuid' } as const;
export const uuidParam = { type: 'string', format: 'uuid', description: 'A UUID (any letter case).' } as const;

export const idParams = {
  type: 'object',
  properties: { id: uuidParam },
  required: ['id'],
  additionalProperties: false,
} as const;

export const MAX_PAGE_SIZE = 200;
export const DEFAULT_PAGE_SIZE = 50;

export const pageQueryProperties = {
  limit: { type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE, description: `Items per page (default ${DEFAULT_PAGE_SIZE}, at most ${MAX_PAGE_SIZE}).` },
  cursor: { type: 'string', minLength: 1, maxLength: 512, description: 'Opaque: the `next_cursor` of the previous page, unchanged.' },
} as const;

export const pageQuery = {
  type: 'object',
  properties: pageQueryProperties,
  additionalProperties: false,
} as const;

export const dateTime = { type: 'string', format: 'date-time' } as const;

/** A keyset page of `item`: `next_cursor` is null on the last page. */
export function pageOf(item: object) {
  return {
    type: 'object',
    properties: {
      items: { type: 'array', items: item },
      next_cursor: { type: ['string', 'null'], description: 'Pass as `cursor` to get the next page; null when there is none.' },
    },
    required: ['items', 'next_cursor'],
    additionalProperties: false,
  } as const;
}
