import { expect } from 'chai';
import { signIn, uniqueEmail, type HttpClient } from '../support/http-client';
import { startTestSystem, type TestSystem } from '../support/system';
import { OWN_FIXTURES, koi8rMail } from '../support/mail-fixtures';
import { deliverRaw, header, history, sentItems, setFaults, waitForHistory, waitForIdle as idle } from '../support/mail-loop';

interface Contact {
  id: string;
  email: string;
}

describe('the mail loop, end to end through the HTTP contract', function () {
  this.timeout(60000);
  let system: TestSystem;
  let user: string;
  let client: HttpClient;

  before(async () => {
    system = await startTestSystem();
    user = uniqueEmail('owner');
    client = await signIn(system.baseUrl, user);
  });
  after(async () => {
    await system.close();
  });

  async function newContact(fields: Record<string, unknown> = {}): Promise<Contact> {
    const res = await client.post<Contact>('/api/contacts', {
      email: uniqueEmail('contact'),
      name: 'Анна Петрова',
      description_ai: 'Supplier Anna. Confirm delivery dates politely.',
      is_active: true,
      ...fields,
    });
    expect(res.status).to.equal(201);
    return res.body;
  }

  for (const build of OWN_FIXTURES) {
    const kind = build('a@b.c', 'd@e.f').kind;
    it(`answers a ${kind} mail once, in its thread, and keeps both in the history`, async () => {
      const contact = await newContact();
      const mail = build(`"Anna" <${contact.email}>`, user);
      const delivered = await deliverRaw(system.baseUrl, user, mail.raw);
      const items = await waitForHistory(client, contact.id, { received: 1, sent: 1 });
      const received = items.find((m) => m.message_direction === 'received')!;
      const sent = items.find((m) => m.message_direction === 'sent')!;

      expect(received.message_text.startsWith(mail.expectedText), JSON.stringify(received.message_text)).to.equal(true);
      expect(received.message_text).to.not.contain('\uFFFD');
      expect(received.subject).to.equal(mail.subject);
      expect(received.gmail_thread_id).to.equal(delivered.thread_id);
      expect(items[0]!.id).to.equal(sent.id); // newest first
      expect(sent.gmail_thread_id).to.equal(delivered.thread_id);
      expect(sent.subject).to.equal(`Re: ${mail.subject}`);
      // The sandbox LLM answers from what it was given: the contact's instruction reached it.
      expect(sent.message_text).to.contain('Supplier Anna');

      await idle(system);
      const replies = (await sentItems(system.baseUrl, user)).filter((s) => header(s, 'to')?.includes(contact.email));
      expect(replies).to.have.length(1);
      const reply = replies[0]!;
      expect(reply.thread_id).to.equal(delivered.thread_id);
      expect(header(reply, 'in-reply-to')).to.equal(delivered.message_id);
      expect(header(reply, 'references')).to.contain(delivered.message_id);
      expect(header(reply, 'subject')).to.equal(`Re: ${mail.subject}`);
      expect(header(reply, 'auto-submitted')).to.equal('auto-replied');
    });
  }

  it('keeps the full References chain and answers a follow-up in the same thread', async () => {
    const contact = await newContact();
    const first = await deliverRaw(system.baseUrl, user, koi8rMail(contact.email, user).raw);
    await waitForHistory(client, contact.id, { received: 1, sent: 1 });
    await idle(system);
    const firstReply = (await sentItems(system.baseUrl, user)).find((s) => s.thread_id === first.thread_id)!;
    const ourId = header(firstReply, 'message-id')!;
    const followUp = [
      `From: ${contact.email}`,
      `To: ${user}`,
      'Subject: Re: Вопрос о поставке',
      `Message-ID: <follow-up-${Date.now()}@fixtures.example>`,
      `In-Reply-To: ${ourId}`,
      `References: ${first.message_id} ${ourId}`,
      'Content-Type: text/plain; charset=utf-8',
      '',
      'Thanks! And the invoice?',
      '',
      `On Mon, Anna wrote:`,
      '> old quoted text',
    ].join('\r\n');
    const second = await deliverRaw(system.baseUrl, user, Buffer.from(followUp));
    expect(second.thread_id).to.equal(first.thread_id);
    await waitForHistory(client, contact.id, { received: 2, sent: 2 });
    await idle(system);
    const replies = (await sentItems(system.baseUrl, user)).filter((s) => s.thread_id === first.thread_id);
    expect(replies).to.have.length(2);
    const last = replies[1]!;
    expect(header(last, 'in-reply-to')).to.equal(second.message_id);
    const refs = header(last, 'references')!.split(/\s+/);
    expect(refs).to.deep.equal([first.message_id, ourId, second.message_id]);
    expect(header(last, 'subject')).to.equal('Re: Вопрос о поставке');
  });

  it('answers exactly once when every push arrives three times', async () => {
    const contact = await newContact();
    await setFaults(system.baseUrl, user, { duplicate_pushes: 3 });
    try {
      const delivered = await deliverRaw(system.baseUrl, user, koi8rMail(contact.email, user).raw);
      await waitForHistory(client, contact.id, { received: 1, sent: 1 });
      await idle(system);
      await new Promise((r) => setTimeout(r, 500));
      await idle(system);
      const replies = (await sentItems(system.baseUrl, user)).filter((s) => s.thread_id === delivered.thread_id);
      expect(replies).to.have.length(1);
      const items = await history(client, contact.id);
      expect(items.filter((m) => m.message_direction === 'received')).to.have.length(1);
      expect(items.filter((m) => m.message_direction === 'sent')).to.have.length(1);
    } finally {
      await setFaults(system.baseUrl, user, {});
    }
  });

  it('refreshes a stored access token that Gmail no longer accepts, and still answers', async () => {
    const contact = await newContact();
    const me = (await client.get<{ id: string }>('/api/me')).body;
    // An access token that looks valid for another hour but that Google does not know (revoked).
    await system.container.connections.saveTokens(me.id, { accessToken: 'ya29.revoked-token', expiresAt: new Date(Date.now() + 3600_000) });
    const delivered = await deliverRaw(system.baseUrl, user, koi8rMail(contact.email, user).raw);
    await waitForHistory(client, contact.id, { received: 1, sent: 1 });
    const replies = (await sentItems(system.baseUrl, user)).filter((s) => s.thread_id === delivered.thread_id);
    expect(replies).to.have.length(1);
    const grant = await system.container.connections.readGrant(me.id);
    expect(grant!.accessToken).to.not.equal('ya29.revoked-token');
  });

  it('records mail from an inactive contact without answering it', async () => {
    const contact = await newContact({ is_active: false });
    await deliverRaw(system.baseUrl, user, koi8rMail(contact.email, user).raw);
    await waitForHistory(client, contact.id, { received: 1, sent: 0 });
    await idle(system);
    expect((await history(client, contact.id)).filter((m) => m.message_direction === 'sent')).to.have.length(0);
  });

  it('ignores mail from someone who is not a contact', async () => {
    const stranger = uniqueEmail('stranger');
    const delivered = await deliverRaw(system.baseUrl, user, koi8rMail(stranger, user).raw);
    await idle(system);
    expect((await sentItems(system.baseUrl, user)).filter((s) => s.thread_id === delivered.thread_id)).to.have.length(0);
  });

  it('does not answer an automatic reply from a contact', async () => {
    const contact = await newContact();
    const auto = [
      `From: ${contact.email}`,
      `To: ${user}`,
      'Subject: Automatic reply: Вопрос',
      'Auto-Submitted: auto-replied',
      `Message-ID: <auto-${Date.now()}@fixtures.example>`,
      'Content-Type: text/plain; charset=utf-8',
      '',
      'I am out of the office until Monday.',
    ].join('\r\n');
    await deliverRaw(system.baseUrl, user, Buffer.from(auto));
    await waitForHistory(client, contact.id, { received: 1, sent: 0 });
    await idle(system);
    expect((await history(client, contact.id)).filter((m) => m.message_direction === 'sent')).to.have.length(0);
  });

  it('lists the conversation, most recent first, with the contact and the last message', async () => {
    const older = await newContact({ name: 'Older' });
    await deliverRaw(system.baseUrl, user, koi8rMail(older.email, user).raw);
    await waitForHistory(client, older.id, { received: 1, sent: 1 });
    const newer = await newContact({ name: 'Newer' });
    await deliverRaw(system.baseUrl, user, koi8rMail(newer.email, user).raw);
    await waitForHistory(client, newer.id, { received: 1, sent: 1 });
    const res = await client.get<{ items: Array<{ id: string; contact: { id: string; name: string }; last_interaction_at: string; last_message: { message_direction: string } | null }> }>('/api/conversations');
    expect(res.status).to.equal(200);
    const ids = res.body.items.map((c) => c.contact.id);
    expect(ids.indexOf(newer.id)).to.be.lessThan(ids.indexOf(older.id));
    const top = res.body.items.find((c) => c.contact.id === newer.id)!;
    expect(top.contact.name).to.equal('Newer');
    expect(top.last_message?.message_direction).to.equal('sent');
  });
});
