import { parentPort, workerData } from 'node:worker_threads';
import { Client } from 'pg';
import { loadConfig } from '../../src/config';
import { FieldCipher } from '../../src/crypto/field-cipher';
import { BlindIndex } from '../../src/crypto/blind-index';
import { sealColumns } from '../../src/db/encrypted-columns';
import { newId } from '../../src/db/ids';

/**
 * A worker thread of the scale loader (bench/scale/load.ts): builds one slice of a user's contacts
 * or messages, every encrypted column sealed by the product's own code for its row id (so the
 * product decrypts them), and inserts it in batches.
 */
export interface LoadTask {
  env: Record<string, string>;
  databaseUrl: string;
  userId: string;
  /** A tag unique to the user, in Gmail ids. */
  tag: string;
  contactIds: string[];
  kind: 'contacts' | 'messages';
  /** Rows [start, end) of this slice. */
  start: number;
  end: number;
  /** Messages: how many in all for the user, and the contact that gets one in every total/100 of them. */
  totalMessages: number;
  probeContact: number;
}

const BATCH = 2000;
const YEAR_MS = 365 * 24 * 3600_000;
const TEXT = 'Hello, following up on our last exchange: could you confirm the delivery date and the invoice number? The parcel should leave the warehouse this week. Best regards';

/** Which contact the i-th message (oldest first) belongs to: 100 of them go to the probe contact, the rest spread evenly. */
export function contactOfMessage(i: number, t: Pick<LoadTask, 'contactIds' | 'totalMessages' | 'probeContact'>): number {
  const every = Math.max(1, Math.floor(t.totalMessages / 100));
  if (i % every === 0) return t.probeContact;
  const others = t.contactIds.length - 1;
  const k = (i * 7919) % others;
  return k >= t.probeContact ? k + 1 : k;
}

async function run(task: LoadTask): Promise<void> {
  const config = loadConfig(task.env);
  const cipher = new FieldCipher(config.encryptionKeys, config.encryptionCurrentKey);
  const blindIndex = new BlindIndex(config.blindIndexKey);
  const db = new Client({ connectionString: task.databaseUrl });
  await db.connect();
  const since = Date.now() - YEAR_MS;
  for (let from = task.start; from < task.end; from += BATCH) {
    const to = Math.min(task.end, from + BATCH);
    const cols: unknown[][] = [];
    const push = (...values: unknown[]) => values.forEach((v, c) => (cols[c] ??= []).push(v));
    for (let i = from; i < to; i += 1) {
      if (task.kind === 'contacts') {
        const id = task.contactIds[i]!;
        const email = `contact-${task.tag}-${i}@example.org`;
        const sealed = sealColumns(cipher, 'contacts', id, { email, name: `Contact ${i}`, description_ai: `Customer number ${i}. Answer politely and briefly.` });
        push(id, sealed.email, blindIndex.ofEmail(email), sealed.name, sealed.description_ai, i % 10 === 0);
      } else {
        const id = newId();
        const contact = contactOfMessage(i, task);
        const sealed = sealColumns(cipher, 'message_history', id, { message_text: `${TEXT} (${i})`, subject: `Order ${i}` });
        const at = new Date(since + Math.floor((i / task.totalMessages) * YEAR_MS)).toISOString();
        push(id, task.contactIds[contact], i % 2 ? 'sent' : 'received', sealed.message_text, sealed.subject, at, `g${task.tag}${i.toString(16)}`, `t${task.tag}${Math.floor(i / 3).toString(16)}`);
      }
    }
    if (task.kind === 'contacts') {
      await db.query(
        `INSERT INTO contacts (id, user_id, email, email_hash, name, description_ai, is_active)
         SELECT t.id, $1, t.email, t.email_hash, t.name, t.description_ai, t.is_active
         FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::boolean[]) AS t(id, email, email_hash, name, description_ai, is_active)`,
        [task.userId, ...cols],
      );
    } else {
      await db.query(
        `INSERT INTO message_history (id, user_id, contact_id, message_direction, message_text, subject, "timestamp", gmail_message_id, gmail_thread_id)
         SELECT t.id, $1, t.contact_id, t.direction, t.message_text, t.subject, t.at, t.gmail_id, t.thread_id
         FROM unnest($2::uuid[], $3::uuid[], $4::message_direction[], $5::text[], $6::text[], $7::timestamptz[], $8::text[], $9::text[])
           AS t(id, contact_id, direction, message_text, subject, at, gmail_id, thread_id)`,
        [task.userId, ...cols],
      );
    }
  }
  await db.end();
}

if (parentPort) {
  run(workerData as LoadTask).then(
    () => parentPort!.postMessage({ ok: true }),
    (err: unknown) => parentPort!.postMessage({ ok: false, error: (err as Error).stack ?? String(err) }),
  );
}
