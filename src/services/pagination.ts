import { AppError } from '../errors';

/**
 * Keyset pages: the cursor is the name of the list and the sort key of the last item given, opaque
 * to clients; a cursor of one list is refused by another, even where their keys look alike.
 */
export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export class InvalidCursorError extends AppError {
  constructor() {
    super(400, 'invalid_cursor', 'cursor is not one this endpoint gave out', [{ path: 'query.cursor', message: 'is invalid' }]);
  }
}

export function encodeCursor(list: string, key: Array<string | number>): string {
  return Buffer.from(JSON.stringify([list, ...key]), 'utf8').toString('base64url');
}

/** Decodes a cursor and checks each element against the expected shape. */
export function decodeCursor(list: string, cursor: string, shape: Array<(v: unknown) => boolean>): Array<string | number> {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError();
  }
  if (!Array.isArray(key) || key[0] !== list || key.length !== shape.length + 1 || !shape.every((ok, i) => ok(key[i + 1]))) {
    throw new InvalidCursorError();
  }
  return key.slice(1) as Array<string | number>;
}

/** Takes `limit + 1` rows, returns `limit` and a cursor when there was more. */
export function toPage<Row, T>(list: string, rows: Row[], limit: number, keyOf: (row: Row) => Array<string | number>, shape: (row: Row) => T): Page<T> {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  const last = kept[kept.length - 1];
  return { items: kept.map(shape), next_cursor: more && last ? encodeCursor(list, keyOf(last)) : null };
}

export const isUuidString = (v: unknown): boolean => typeof v === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v);

/** Exactly what Date#toISOString gives for a time since 1970 (the keys this product writes), and a real date. */
export const isIsoDate = (v: unknown): boolean =>
  typeof v === 'string' && /^(19[7-9]\d|[2-9]\d{3})-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(v) && sameInstantText(v);

/** An impossible date (month 13, minute 60) is an Invalid Date, whose toISOString throws. */
function sameInstantText(v: string): boolean {
  const date = new Date(v);
  return !Number.isNaN(date.getTime()) && date.toISOString() === v;
}

const MAX_BIGINT = 9223372036854775807n;
/** A positive PostgreSQL bigint, as text. */
export const isBigintString = (v: unknown): boolean => typeof v === 'string' && /^[0-9]{1,19}$/.test(v) && BigInt(v) <= MAX_BIGINT;
