import { v7 as uuidv7 } from 'uuid';

/**
 * Row ids are made by the application (UUIDv7: time-ordered, so keyset pages and indexes stay
 * local) because encrypted columns bind the row id as associated data before the insert.
 */
export function newId(): string {
  return uuidv7();
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}
