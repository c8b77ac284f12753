import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { Client } from 'pg';
import { newId } from '../../src/db/ids';
import type { LoadTask } from './load-worker';

export interface LoadedUser {
  contacts: number;
  messages: number;
  /** The contact whose history is read (100 messages, spread over the year). */
  probeContactId: string;
}

/**
 * Bulk-loads contacts and messages for an existing user with SQL (INSERT … SELECT FROM unnest, in
 * batches), in as many worker threads as there are cores; then VACUUM ANALYZE, as autovacuum would.
 */
export async function loadUser(opts: {
  workerEntry: string;
  env: Record<string, string>;
  databaseUrl: string;
  userId: string;
  tag: string;
  contacts: number;
  messages: number;
}): Promise<LoadedUser> {
  const contactIds = Array.from({ length: opts.contacts }, () => newId());
  const probeContact = opts.contacts - 1; // the newest: first on the list's first page
  const threads = os.cpus().length;
  const base = { env: opts.env, databaseUrl: opts.databaseUrl, userId: opts.userId, tag: opts.tag, contactIds, totalMessages: opts.messages, probeContact };
  const slices = (kind: LoadTask['kind'], total: number) =>
    Array.from({ length: threads }, (_, k): LoadTask => ({ ...base, kind, start: Math.floor((k * total) / threads), end: Math.floor(((k + 1) * total) / threads) }));
  const runAll = (tasks: LoadTask[]) =>
    Promise.all(
      tasks.map(
        (task) =>
          new Promise<void>((resolve, reject) => {
            const worker = new Worker(opts.workerEntry, { workerData: task });
            worker.once('message', (m: { ok: boolean; error?: string }) => (m.ok ? resolve() : reject(new Error(m.error))));
            worker.once('error', reject);
          }),
      ),
    );
  await runAll(slices('contacts', opts.contacts)); // first: the messages reference them
  await runAll(slices('messages', opts.messages));
  const db = new Client({ connectionString: opts.databaseUrl });
  await db.connect();
  await db.query('VACUUM ANALYZE contacts');
  await db.query('VACUUM ANALYZE message_history');
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM message_history WHERE contact_id = $1', [contactIds[probeContact]]);
  await db.end();
  if (rows[0]!.n < 51) throw new Error(`the probe contact has ${rows[0]!.n} messages; a page needs 51`);
  return { contacts: opts.contacts, messages: opts.messages, probeContactId: contactIds[probeContact]! };
}
