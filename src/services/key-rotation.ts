import type { Knex } from 'knex';
import { FieldCipher } from '../crypto/field-cipher';
import { ENCRYPTED_COLUMNS, type EncryptedTable } from '../db/encrypted-columns';
import type { Logger } from '../observability/logger';

/** The primary key of each table with encrypted columns (the row id bound into its ciphertexts). */
const ROW_ID: Record<EncryptedTable, string> = {
  contacts: 'id',
  message_history: 'id',
  gmail_connections: 'user_id',
};

export interface RotationOptions {
  batchSize?: number;
  /** Stop after this many batches (the next run resumes where this one stopped). */
  maxBatches?: number;
}

export interface RotationReport {
  table: EncryptedTable;
  scanned: number;
  reencrypted: number;
  done: boolean;
}

/**
 * Re-encrypts every encrypted column under the current key, while the service runs: table by
 * table in primary-key order, in batches, each value decrypted with the key its version names and
 * encrypted again with the current one. A value is written only if it is still the one read (a
 * concurrent write already uses the current key and wins). Progress is stored per table, so an
 * interrupted run resumes where it stopped; once every table is done, old keys can be removed
 * from ENCRYPTION_KEYS.
 */
export function createKeyRotation(deps: { db: Knex; cipher: FieldCipher; logger: Logger }) {
  const { db, cipher, logger } = deps;
  const target = cipher.currentVersion;

  async function progressOf(table: EncryptedTable): Promise<{ lastRowId: string | null; done: boolean }> {
    const row = await db('reencryption_progress').where({ table_name: table }).first();
    if (!row || row.target_key_version !== target) return { lastRowId: null, done: false };
    return { lastRowId: row.last_row_id as string | null, done: Boolean(row.done) };
  }

  async function saveProgress(table: EncryptedTable, lastRowId: string | null, done: boolean): Promise<void> {
    await db('reencryption_progress')
      .insert({ table_name: table, target_key_version: target, last_row_id: lastRowId, done, updated_at: new Date() })
      .onConflict('table_name')
      .merge();
  }

  async function rotateRow(table: EncryptedTable, idColumn: string, row: Record<string, string | null>): Promise<boolean> {
    const rowId = String(row[idColumn]);
    const changes: Record<string, string> = {};
    const unchanged: Record<string, string> = {};
    for (const column of ENCRYPTED_COLUMNS[table]) {
      const stored = row[column];
      if (stored === null || stored === undefined || FieldCipher.keyVersionOf(stored) === target) continue;
      changes[column] = cipher.encrypt(cipher.decrypt(stored, { table, column, rowId }), { table, column, rowId });
      unchanged[column] = stored;
    }
    if (Object.keys(changes).length === 0) return false;
    const updated = await db(table).where(idColumn, rowId).where(unchanged).update(changes);
    return updated > 0;
  }

  return {
    targetVersion: target,

    async run(opts: RotationOptions = {}): Promise<RotationReport[]> {
      const batchSize = opts.batchSize ?? 500;
      let batches = 0;
      const reports: RotationReport[] = [];
      for (const table of Object.keys(ENCRYPTED_COLUMNS) as EncryptedTable[]) {
        const idColumn = ROW_ID[table];
        const report: RotationReport = { table, scanned: 0, reencrypted: 0, done: false };
        reports.push(report);
        let { lastRowId, done } = await progressOf(table);
        while (!done) {
          if (opts.maxBatches !== undefined && batches >= opts.maxBatches) return reports;
          const query = db(table).select(idColumn, ...ENCRYPTED_COLUMNS[table]).orderBy(idColumn).limit(batchSize);
          if (lastRowId) query.where(idColumn, '>', lastRowId);
          const rows = (await query) as Array<Record<string, string | null>>;
          for (const row of rows) if (await rotateRow(table, idColumn, row)) report.reencrypted += 1;
          report.scanned += rows.length;
          lastRowId = rows.length > 0 ? String(rows.at(-1)![idColumn]) : lastRowId;
          done = rows.length < batchSize;
          await saveProgress(table, lastRowId, done);
          batches += 1;
        }
        report.done = true;
        logger.info({ table, scanned: report.scanned, reencrypted: report.reencrypted, keyVersion: target }, 'table re-encrypted');
      }
      return reports;
    },

    /** How many stored values still use another key than the current one. */
    async remaining(): Promise<number> {
      let total = 0;
      for (const table of Object.keys(ENCRYPTED_COLUMNS) as EncryptedTable[]) {
        for (const column of ENCRYPTED_COLUMNS[table]) {
          const [{ n }] = (await db(table).whereNotNull(column).whereNot(column, 'like', `${target}.%`).count({ n: '*' })) as [{ n: string }];
          total += Number(n);
        }
      }
      return total;
    },
  };
}

export type KeyRotation = ReturnType<typeof createKeyRotation>;
