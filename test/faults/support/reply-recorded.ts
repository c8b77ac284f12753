import type { Knex } from 'knex';
import { Client } from 'pg';

/**
 * Tells a test the moment a reply is recorded as sent: a trigger on replies notifies a channel
 * when a row turns 'sent', and PostgreSQL delivers the notification when that transaction commits.
 */

const CHANNEL = 'fault_test_reply_sent';
const FUNCTION = 'fault_test_notify_reply_sent';
const TRIGGER = 'fault_test_reply_sent';

export async function installReplySentSignal(db: Knex): Promise<void> {
  await db.raw(`
    CREATE OR REPLACE FUNCTION ${FUNCTION}() RETURNS trigger AS $$
    BEGIN
      PERFORM pg_notify('${CHANNEL}', NEW.user_id::text);
      RETURN NEW;
    END
    $$ LANGUAGE plpgsql`);
  await db.raw(`DROP TRIGGER IF EXISTS ${TRIGGER} ON replies`);
  await db.raw(`CREATE TRIGGER ${TRIGGER} AFTER UPDATE OF status ON replies FOR EACH ROW WHEN (NEW.status = 'sent' AND OLD.status IS DISTINCT FROM 'sent') EXECUTE FUNCTION ${FUNCTION}()`);
}

export async function removeReplySentSignal(db: Knex): Promise<void> {
  await db.raw(`DROP TRIGGER IF EXISTS ${TRIGGER} ON replies`);
  await db.raw(`DROP FUNCTION IF EXISTS ${FUNCTION}()`);
}

/**
 * Arms a one-shot: `run` is called as soon as a reply of `userId` is committed as sent. Resolves
 * once listening; `fired` resolves after `run` finished.
 */
export async function onceReplyRecorded(databaseUrl: string, userId: string, run: () => Promise<void>): Promise<{ fired: Promise<void> }> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  await client.query(`LISTEN ${CHANNEL}`);
  const fired = new Promise<void>((resolve, reject) => {
    client.on('notification', (msg) => {
      if (msg.payload !== userId) return;
      client.removeAllListeners('notification');
      run()
        .then(resolve, reject)
        .finally(() => void client.end());
    });
  });
  return { fired };
}
