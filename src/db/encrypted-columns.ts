import type { FieldCipher } from '../crypto/field-cipher';

/** Which columns of which table hold ciphertext; the single list that encryption and key rotation read. */
export const ENCRYPTED_COLUMNS = {
  contacts: ['email', 'name', 'description_ai'],
  message_history: ['message_text', 'subject'],
  gmail_connections: ['refresh_token', 'access_token'],
} as const;

export type EncryptedTable = keyof typeof ENCRYPTED_COLUMNS;
type ColumnOf<T extends EncryptedTable> = (typeof ENCRYPTED_COLUMNS)[T][number];

/** Encrypts the given plaintext columns of one row; columns not given are left out. */
export function sealColumns<T extends EncryptedTable>(
  cipher: FieldCipher,
  table: T,
  rowId: string,
  values: Partial<Record<ColumnOf<T>, string | null>>,
): Partial<Record<ColumnOf<T>, string | null>> {
  const sealed: Partial<Record<ColumnOf<T>, string | null>> = {};
  for (const column of ENCRYPTED_COLUMNS[table] as readonly ColumnOf<T>[]) {
    const value = values[column];
    if (value === undefined) continue;
    sealed[column] = cipher.encryptNullable(value, { table, column, rowId });
  }
  return sealed;
}

export function openColumn<T extends EncryptedTable>(
  cipher: FieldCipher,
  table: T,
  column: ColumnOf<T>,
  rowId: string,
  stored: string,
): string {
  return cipher.decrypt(stored, { table, column, rowId });
}

export function openNullableColumn<T extends EncryptedTable>(
  cipher: FieldCipher,
  table: T,
  column: ColumnOf<T>,
  rowId: string,
  stored: string | null,
): string | null {
  return cipher.decryptNullable(stored, { table, column, rowId });
}
