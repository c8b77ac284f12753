import { expect } from 'chai';
import { signIn, uniqueEmail, waitFor, type HttpClient } from '../support/http-client';
import { startTestSystem, type TestSystem } from '../support/system';
import { deliverRaw, header, history, sentItems, setFaults, waitForHistory, waitForIdle } from '../support/mail-loop';
import { grant } from '../sandbox/support';

interface Contact {
  id: string;
  email: string;
}

const CRLF = '\r\n';

function mail(from: string, to: string, subject: string, text: string): Buffer {
  const lines = [`From: ${from}`, `To: ${to}`, `Subject: ${subject}`, `Message-ID: <${Math.random().toString(36).slice(2)}@contact.example>`, `Date: ${new Date().toUTCString()}`, 'Content-Type: text/plain; charset=utf-8'];
  return Buffer.from(`${lines.join(CRLF)}${CRLF}${CRLF}${text}${CRLF}`, 'utf8');
}

async function metric(system: TestSystem, name: string, labels: Record<string, string> = {}): Promise<number> {
  const found = (await system.container.metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  return (found?.values ?? []).filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l)).reduce((sum, v) => sum + Number(v.value), 0);
}

async function signedInUser(system: TestSystem, local: string): Promise<{ email: string; userId: string; client: HttpClient; contact: Contact }> {
  const email = uniqueEmail(local);
  const client = await signIn(system.baseUrl, email);
  const userId = (await client.get<{ id: string }>('/api/me')).body.id;
  const contact = (await client.post<Contact>('/api/contacts', { email: uniqueEmail('contact'), name: 'Contact', description_ai: 'Be brief.', is_active: true })).body;
  return { email, userId, client, contact };
}

/**
 * Recovery from what Gmail, the LLM and the user do to a mail on its way, step by step: the sync
 * and the reply are run one at a time (no worker), so each test sees exactly what each step did.
 */
describe('mail pipeline recovery, step by step', function () {
  this.timeout(60000);
  let system: TestSystem;

  before(async () => {
    // A rate-limited Gmail call fails at once here instead of waiting out Retry-After.
    system = await startTestSystem({ worker: false, overrides: { GMAIL_MAX_RETRIES: '0' } });
  });
  after(async () => {
    await system.close();
  });

  const sync = (userId: string) => system.container.services.sync.syncMailbox(userId, {});
  const pendingReplies = (userId: string) => system.container.db('replies').where({ user_id: userId, status: 'pending' }).pluck('id');

  it('resyncs the inbox when the history expired: nothing lost, nothing answered twice, cursor reset to the present', async () => {
    const { email, userId, client, contact } = await signedInUser(system, 'expired');
    await deliverRaw(system.baseUrl, email, mail(contact.email, email, 'First', 'One'));
    await sync(userId);
    const [first] = await pendingReplies(userId);
    expect(await system.container.services.replies.processReply(first, {})).to.equal('sent');

    await setFaults(system.baseUrl, email, { drop_pushes: true });
    await deliverRaw(system.baseUrl, email, mail(contact.email, email, 'Second', 'Two'));
    await deliverRaw(system.baseUrl, email, mail(contact.email, email, 'Third', 'Three'));
    await deliverRaw(system.baseUrl, email, mail(uniqueEmail('stranger'), email, 'Spam', 'Buy'));
    await setFaults(system.baseUrl, email, { expire_history: true });
    const resyncsBefore = await metric(system, 'gmail_history_resyncs_total');
    const linesBefore = system.logLines.length;

    const result = await sync(userId);
    expect(result.mode).to.equal('resync');
    expect(result.recorded).to.equal(2);
    const items = await history(client, contact.id);
    expect(items.filter((m) => m.message_direction === 'received').map((m) => m.subject).sort()).to.deep.equal(['First', 'Second', 'Third']);
    expect(await pendingReplies(userId)).to.have.length(2);
    expect(await system.container.db('replies').where({ user_id: userId })).to.have.length(3);

    const own = await grant(system, email);
    const present = (await own.gmail.users.getProfile({ userId: 'me' })).data.historyId;
    const connection = await system.container.db('gmail_connections').where({ user_id: userId }).first();
    expect(String(connection.history_id)).to.equal(String(present));
    expect(await metric(system, 'gmail_history_resyncs_total')).to.equal(resyncsBefore + 1);
    expect(system.logLines.slice(linesBefore).join('')).to.contain('"event":"history_expired"');
    // The next sync walks the history again from the new cursor.
    expect((await sync(userId)).mode).to.equal('history');
  });

  it('leaves alone, in a resync, mail older than the last sync (a sender who became a contact later is not answered for it)', async () => {
    const { email, userId, client } = await signedInUser(system, 'floor');
    const later = uniqueEmail('later');
    await deliverRaw(system.baseUrl, email, mail(later, email, 'Before', 'Not a contact yet'));
    expect((await sync(userId)).recorded).to.equal(0);
    const contact = (await client.post<Contact>('/api/contacts', { email: later, name: 'Later', is_active: true })).body;
    await setFaults(system.baseUrl, email, { drop_pushes: true });
    await deliverRaw(system.baseUrl, email, mail(later, email, 'After', 'Now a contact'));
    await setFaults(system.baseUrl, email, { expire_history: true });
    const result = await sync(userId);
    expect(result.mode).to.equal('resync');
    expect((await history(client, contact.id)).map((m) => m.subject)).to.deep.equal(['After']);
  });

  it('resyncs, and takes the present cursor, when the stored cursor is beyond the mailbox (the mailbox was recreated)', async () => {
    const { email, userId, client, contact } = await signedInUser(system, 'ahead');
    await sync(userId);
    const stored = (await system.container.db('gmail_connections').where({ user_id: userId }).first()).history_id;
    await system.container.db('gmail_connections').where({ user_id: userId }).update({ history_id: system.container.db.raw('history_id * 10') });
    await deliverRaw(system.baseUrl, email, mail(contact.email, email, 'Lost?', 'Still answered'));
    const result = await sync(userId);
    expect(result.mode).to.equal('resync');
    expect(result.recorded).to.equal(1);
    const own = await grant(system, email);
    const present = (await own.gmail.users.getProfile({ userId: 'me' })).data.historyId;
    const connection = await system.container.db('gmail_connections').where({ user_id: userId }).first();
    expect(String(connection.history_id)).to.equal(String(present));
    expect(BigInt(connection.history_id) > BigInt(stored), 'the cursor moved past the stored one').to.equal(true);
    expect((await sync(userId)).mode).to.equal('history');
    expect((await history(client, contact.id)).map((m) => m.subject)).to.deep.equal(['Lost?']);
  });

  it('frees the send lease when Gmail answered the send with an error, so the next run recovers at once', async () => {
    const { email, userId } = await signedInUser(system, 'release');
    const contact = (await system.container.db('contacts').where({ user_id: userId }).first()) as { id: string; email: string };
    const contactEmail = (await system.container.services.contacts.get(userId, contact.id)).email;
    await deliverRaw(system.baseUrl, email, mail(contactEmail, email, 'Broken pipe', 'Hello'));
    await sync(userId);
    const [replyId] = await pendingReplies(userId);
    await setFaults(system.baseUrl, email, { fail_next_send: 'after' });
    let caught: unknown;
    await system.container.services.replies.processReply(replyId as string, {}).catch((err: unknown) => (caught = err));
    expect(caught, 'the send answered 500').to.be.instanceOf(Error);
    const row = await system.container.db('replies').where({ id: replyId }).first();
    expect(row.status).to.equal('sending');
    expect(row.lease_until.getTime()).to.be.at.most(Date.now());
    expect(await system.container.services.replies.processReply(replyId as string, {})).to.equal('recovered');
    expect(await sentItems(system.baseUrl, email)).to.have.length(1);
  });

  it('skips a listed message that Gmail keeps answering 404 for, and records the rest of the batch', async () => {
    const { email, userId, client, contact } = await signedInUser(system, 'gone');
    await sync(userId);
    await setFaults(system.baseUrl, email, { drop_pushes: true });
    const doomed = await deliverRaw(system.baseUrl, email, mail(contact.email, email, 'Deleted', 'Soon gone'));
    await deliverRaw(system.baseUrl, email, mail(contact.email, email, 'Kept', 'Still here'));
    const del = await fetch(`${system.baseUrl}/sandbox/gmail/mailboxes/${encodeURIComponent(email)}/messages/${doomed.id}`, { method: 'DELETE' });
    expect(del.status).to.equal(204);
    const goneBefore = await metric(system, 'gmail_messages_skipped_total', { reason: 'gone' });

    const result = await sync(userId);
    expect(result.gone).to.equal(1);
    expect(result.recorded).to.equal(1);
    expect((await history(client, contact.id)).map((m) => m.subject)).to.deep.equal(['Kept']);
    expect(await metric(system, 'gmail_messages_skipped_total', { reason: 'gone' })).to.equal(goneBefore + 1);
    expect(system.logLines.join('')).to.contain('listed message not found in Gmail; skipped');
  });

  it('does not send a queued reply once the contact is deactivated or deleted, or the subscription ended', async () => {
    const { email, userId, client, contact } = await signedInUser(system, 'queued');
    await sync(userId);
    const send = async (subject: string) => {
      await deliverRaw(system.baseUrl, email, mail(contact.email, email, subject, 'Hello?'));
      await sync(userId);
      const [replyId] = await pendingReplies(userId);
      return replyId as string;
    };

    const whileInactive = await send('Deactivated');
    expect((await client.patch(`/api/contacts/${contact.id}`, { is_active: false })).status).to.equal(200);
    expect(await system.container.services.replies.processReply(whileInactive, {})).to.equal('already_done');
    expect((await system.container.db('replies').where({ id: whileInactive }).first()).failure_reason).to.equal('contact_deactivated');

    await client.patch(`/api/contacts/${contact.id}`, { is_active: true });
    const whileUnsubscribed = await send('Unsubscribed');
    await system.container.services.users.setSubscription(email, false, { actorType: 'admin' });
    expect(await system.container.services.replies.processReply(whileUnsubscribed, {})).to.equal('cancelled');
    expect((await system.container.db('replies').where({ id: whileUnsubscribed }).first()).failure_reason).to.equal('subscription_inactive');
    await system.container.services.users.setSubscription(email, true, { actorType: 'admin' });

    const whileDeleted = await send('Deleted');
    expect((await client.delete(`/api/contacts/${contact.id}`)).status).to.equal(204);
    expect(await system.container.services.replies.processReply(whileDeleted, {})).to.equal('already_done');
    expect(await sentItems(system.baseUrl, email)).to.have.length(0);
  });

  it('does not send when the contact is deleted while the LLM writes: the claim waits for the change and sees it', async () => {
    const { email, userId, contact } = await signedInUser(system, 'racedelete');
    await deliverRaw(system.baseUrl, email, mail(contact.email, email, 'Race', 'Are you there?'));
    await sync(userId);
    const [replyId] = await pendingReplies(userId);
    const db = system.container.db;
    // A change of the contact in progress, as a DELETE holds it: the row locked for update (but
    // not its key, so that the reply's own reads and writes go on) until the change commits.
    const change = await db.transaction();
    try {
      await change.raw('SELECT id FROM contacts WHERE id = ? FOR NO KEY UPDATE', [contact.id]);
      const processing = system.container.services.replies.processReply(replyId as string, {});
      await waitFor('the claim to wait for the contact row', async () => {
        const { rows } = await db.raw(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query ILIKE '%from "contacts" as "c"%for share%'`,
        );
        return (rows[0] as { n: number }).n > 0 ? true : undefined;
      }, 15_000, 20);
      await change('contacts').where({ id: contact.id }).update({ deleted_at: new Date(), is_active: false });
      await change.commit();
      expect(await processing).to.equal('cancelled');
    } finally {
      if (!change.isCompleted()) await change.rollback();
    }
    const reply = await db('replies').where({ id: replyId }).first();
    expect(reply).to.include({ status: 'cancelled', failure_reason: 'contact_deleted' });
    expect(await sentItems(system.baseUrl, email)).to.have.length(0);
  });

  it('keeps the conversation ended when the contact is deleted while its reply is being sent', async () => {
    const { email, userId, client, contact } = await signedInUser(system, 'sendingdelete');
    await deliverRaw(system.baseUrl, email, mail(contact.email, email, 'In flight', 'Still there?'));
    await sync(userId);
    const [replyId] = await pendingReplies(userId);
    // Gmail has stored the reply but not answered yet: the user deletes the contact right then.
    const deleted = system.sandbox!.hooks.once('send.stored', {
      when: (event) => event.mailbox === email,
      run: async () => {
        expect((await client.delete(`/api/contacts/${contact.id}`)).status).to.equal(204);
      },
    });
    expect(await system.container.services.replies.processReply(replyId as string, {})).to.equal('sent');
    await deleted;
    expect(await system.container.db('active_conversations').where({ contact_id: contact.id })).to.deep.equal([]);
    const conversations = (await client.get<{ items: Array<{ contact: { id: string } }> }>('/api/conversations')).body.items;
    expect(conversations.map((c) => c.contact.id)).to.not.include(contact.id);
    // What was sent stays in the deleted contact's history.
    const items = await history(client, contact.id);
    expect(items.map((m) => m.message_direction).sort()).to.deep.equal(['received', 'sent']);
  });

  it('handles Gmail\'s "only one push notification client" by stopping the other watch and watching again', async () => {
    const { email, userId } = await signedInUser(system, 'conflict');
    await setFaults(system.baseUrl, email, { watch_conflict: true });
    const { expiresAt } = await system.container.services.watch.startWatch(userId);
    expect(expiresAt.getTime()).to.be.greaterThan(Date.now() + 6 * 24 * 3600_000);
    const calls = ((await (await fetch(`${system.baseUrl}/sandbox/gmail/mailboxes/${encodeURIComponent(email)}/quota`)).json()) as { calls_by_method: Record<string, number> }).calls_by_method;
    expect(calls.stop).to.equal(1);
    expect(calls.watch).to.equal(3); // at sign-in, refused, again after stop
  });

  it('shows a watch that cannot be renewed in /api/me, in the metric and in the logs, until a renewal works', async () => {
    const { email, userId, client } = await signedInUser(system, 'failing');
    await setFaults(system.baseUrl, email, { rate_limit_next: 100 });
    let caught: unknown;
    await system.container.services.watch.startWatch(userId).catch((err: unknown) => (caught = err));
    expect(caught).to.be.instanceOf(Error);
    const me = (await client.get<{ gmail: { watch_status: string; watch_error: string | null } }>('/api/me')).body;
    expect(me.gmail).to.include({ watch_status: 'failing', watch_error: 'gmail_rate_limited' });
    expect(await metric(system, 'gmail_watches_failing')).to.be.at.least(1);
    expect(system.logLines.join('')).to.contain('gmail watch failed');

    await setFaults(system.baseUrl, email, {});
    await system.container.services.watch.startWatch(userId);
    expect((await client.get<{ gmail: { watch_status: string; watch_error: string | null } }>('/api/me')).body.gmail).to.include({ watch_status: 'active', watch_error: null });
  });

  it('renews the watch of every connected mailbox from the maintenance job', async () => {
    const { userId } = await signedInUser(system, 'renew');
    const { mailboxes } = await system.container.services.maintenance.renewWatches();
    expect(mailboxes).to.be.at.least(1);
    const jobs = await system.container.queues.byName['gmail-watch'].getJobs(['waiting', 'prioritized', 'delayed']);
    expect(jobs.some((j) => (j.data as { userId: string }).userId === userId)).to.equal(true);
  });
});

/** The same faults with the worker running, retries shortened so that the last attempt comes soon. */
describe('mail pipeline recovery, with the worker', function () {
  this.timeout(60000);
  let system: TestSystem;

  before(async () => {
    system = await startTestSystem({ overrides: { JOB_ATTEMPTS: '2', JOB_BACKOFF_MS: '50', LLM_MAX_RETRIES: '1', REPLY_SEND_LEASE_SECONDS: '1' } });
  });
  after(async () => {
    await fetch(`${system.baseUrl}/sandbox/openai/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    await system.close();
  });

  const llmFaults = (body: Record<string, unknown>) =>
    fetch(`${system.baseUrl}/sandbox/openai/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('writes the schedulers of the reconcile and the watch renewal', async () => {
    const schedulers = await system.container.queues.byName.maintenance.getJobSchedulers();
    const byName = Object.fromEntries(schedulers.map((s) => [s.name, Number(s.every)]));
    expect(byName).to.deep.equal({ reconcile: 300_000, 'renew-watches': 24 * 3600_000 });
  });

  it('survives an LLM that refuses once, and marks the reply failed with its reason when the LLM keeps failing', async () => {
    const { email, client, contact } = await signedInUser(system, 'llm');
    expect((await llmFaults({ fail_next: 1, status: 429 })).status).to.equal(200);
    await deliverRaw(system.baseUrl, email, mail(contact.email, email, 'Once', 'Hello'));
    await waitForHistory(client, contact.id, { received: 1, sent: 1 });
    await waitForIdle(system);

    await llmFaults({ fail_next: 1000, status: 500 });
    await deliverRaw(system.baseUrl, email, mail(contact.email, email, 'Never', 'Hello again'));
    const failed = await waitFor('the reply to fail for good', async () => {
      const row = await system.container.db('replies').where({ contact_id: contact.id, status: 'failed' }).first();
      return row ?? undefined;
    });
    await llmFaults({});
    expect(failed.failure_reason).to.equal('llm_failed');
    const audit = await system.container.db('audit_log').where({ entity_id: failed.id, action: 'reply.failed' }).first();
    expect(audit?.metadata).to.deep.equal({ reason: 'llm_failed' });
    expect((await history(client, contact.id)).filter((m) => m.message_direction === 'sent')).to.have.length(1);
  });

  it('records, and does not send again, a reply whose send broke after Gmail took it', async () => {
    const { email, client, contact } = await signedInUser(system, 'after');
    await setFaults(system.baseUrl, email, { fail_next_send: 'after' });
    const delivered = await deliverRaw(system.baseUrl, email, mail(contact.email, email, 'Fragile', 'Hello'));
    await waitForHistory(client, contact.id, { received: 1, sent: 1 });
    await waitForIdle(system);
    const sent = (await sentItems(system.baseUrl, email)).filter((s) => s.thread_id === delivered.thread_id);
    expect(sent).to.have.length(1);
    expect(header(sent[0]!, 'in-reply-to')).to.equal(delivered.message_id);
    const reply = await system.container.db('replies').where({ contact_id: contact.id }).first();
    expect(reply.status).to.equal('sent');
    expect(reply.attempts).to.equal(1);
    expect(await metric(system, 'replies_total', { outcome: 'recovered' })).to.be.at.least(1);
  });

  it('sends once after a send that failed before Gmail took it', async () => {
    const { email, client, contact } = await signedInUser(system, 'before');
    await setFaults(system.baseUrl, email, { fail_next_send: 'before' });
    const delivered = await deliverRaw(system.baseUrl, email, mail(contact.email, email, 'Retry', 'Hello'));
    await waitForHistory(client, contact.id, { received: 1, sent: 1 });
    await waitForIdle(system);
    expect((await sentItems(system.baseUrl, email)).filter((s) => s.thread_id === delivered.thread_id)).to.have.length(1);
    const reply = await system.container.db('replies').where({ contact_id: contact.id }).first();
    expect(reply).to.include({ status: 'sent', attempts: 2 });
  });
});
