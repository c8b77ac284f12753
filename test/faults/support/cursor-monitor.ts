import type { Knex } from 'knex';

/**
 * Proof that no Gmail cursor ever moves back: a trigger installed by the test on
 * gmail_connections.history_id writes every decrease (or a cursor set back to nothing) into a
 * table of its own, in the same transaction, so a decrease that was rolled back is not counted.
 */

const TABLE = 'fault_test_cursor_decreases';
const FUNCTION = 'fault_test_record_cursor_decrease';
const TRIGGER = 'fault_test_cursor_monotonic';

export interface CursorDecrease {
  user_id: string;
  old_history_id: string;
  new_history_id: string | null;
}

export async function installCursorMonitor(db: Knex): Promise<void> {
  await db.raw(`CREATE TABLE IF NOT EXISTS ${TABLE} (user_id uuid NOT NULL, old_history_id numeric NOT NULL, new_history_id numeric, at timestamptz NOT NULL DEFAULT now())`);
  await db.raw(`
    CREATE OR REPLACE FUNCTION ${FUNCTION}() RETURNS trigger AS $$
    BEGIN
      IF OLD.history_id IS NOT NULL AND (NEW.history_id IS NULL OR NEW.history_id < OLD.history_id) THEN
        INSERT INTO ${TABLE} (user_id, old_history_id, new_history_id) VALUES (OLD.user_id, OLD.history_id, NEW.history_id);
      END IF;
      RETURN NEW;
    END
    $$ LANGUAGE plpgsql`);
  await db.raw(`DROP TRIGGER IF EXISTS ${TRIGGER} ON gmail_connections`);
  await db.raw(`CREATE TRIGGER ${TRIGGER} AFTER UPDATE OF history_id ON gmail_connections FOR EACH ROW EXECUTE FUNCTION ${FUNCTION}()`);
}

export async function cursorDecreases(db: Knex, userIds: string[]): Promise<CursorDecrease[]> {
  if (userIds.length === 0) return [];
  return db(TABLE).whereIn('user_id', userIds).select('user_id', 'old_history_id', 'new_history_id');
}

export async function removeCursorMonitor(db: Knex): Promise<void> {
  await db.raw(`DROP TRIGGER IF EXISTS ${TRIGGER} ON gmail_connections`);
  await db.raw(`DROP FUNCTION IF EXISTS ${FUNCTION}()`);
  await db.raw(`DROP TABLE IF EXISTS ${TABLE}`);
}
