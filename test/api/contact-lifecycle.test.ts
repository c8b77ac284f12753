import { expect } from 'chai';
import { signIn, uniqueEmail, type HttpClient } from '../support/http-client';
import { startTestSystem, type TestSystem } from '../support/system';
import { deliverRaw, history } from '../support/mail-loop';

interface Contact {
  id: string;
  email: string;
  is_active: boolean;
  deleted_at: string | null;
}
interface Page<T> {
  items: T[];
  next_cursor: string | null;
}
interface ErrorBody {
  error: { code: string };
}

function mail(from: string, to: string, subject: string): Buffer {
  const id = `<${Math.random().toString(36).slice(2)}@contact.example>`;
  return Buffer.from([`From: ${from}`, `To: ${to}`, `Subject: ${subject}`, `Message-ID: ${id}`, `Date: ${new Date().toUTCString()}`, 'Content-Type: text/plain; charset=utf-8', '', `About ${subject}?`, ''].join('\r\n'));
}

/**
 * The life cycle of a contact through the HTTP contract. No worker runs: each test runs the
 * mailbox sync itself, so replies stay pending until the contact changes.
 */
describe('contact life cycle', function () {
  this.timeout(30000);
  let system: TestSystem;

  before(async () => {
    system = await startTestSystem({ worker: false });
  });
  after(async () => {
    await system.close();
  });

  async function owner(local: string): Promise<{ email: string; userId: string; client: HttpClient }> {
    const email = uniqueEmail(local);
    const client = await signIn(system.baseUrl, email);
    return { email, userId: (await client.get<{ id: string }>('/api/me')).body.id, client };
  }
  const newContact = async (client: HttpClient, fields: Record<string, unknown> = {}) =>
    (await client.post<Contact>('/api/contacts', { email: uniqueEmail('contact'), name: 'Contact', is_active: true, ...fields })).body;
  /** Delivers a mail from the contact and records it (with its reply pending) the way the worker would. */
  async function receive(who: { email: string; userId: string }, contact: Contact, subject: string): Promise<void> {
    await deliverRaw(system.baseUrl, who.email, mail(contact.email, who.email, subject));
    await system.container.services.sync.syncMailbox(who.userId, {});
  }
  const replies = (contactId: string) => system.container.db('replies').where({ contact_id: contactId }).orderBy('created_at').select('status', 'failure_reason');

  it('refuses to change an email to one of another live contact (409 contact_exists), in any letter case', async () => {
    const { client } = await owner('clash');
    const a = await newContact(client);
    const b = await newContact(client);
    for (const email of [b.email, b.email.toUpperCase()]) {
      const res = await client.patch<ErrorBody>(`/api/contacts/${a.id}`, { email });
      expect(res.status, email).to.equal(409);
      expect(res.body.error.code).to.equal('contact_exists');
    }
    expect((await client.get<Contact>(`/api/contacts/${a.id}`)).body.email).to.equal(a.email);
    // Its own address in another case, and the address of a deleted contact, are fine.
    expect((await client.patch<Contact>(`/api/contacts/${a.id}`, { email: a.email.toUpperCase() })).status).to.equal(200);
    expect((await client.delete(`/api/contacts/${b.id}`)).status).to.equal(204);
    expect((await client.patch<Contact>(`/api/contacts/${a.id}`, { email: b.email })).body.email).to.equal(b.email);
  });

  it('cancels the replies not yet sent when a contact is deactivated', async () => {
    const who = await owner('deactivate');
    const contact = await newContact(who.client);
    await receive(who, contact, 'First');
    await receive(who, contact, 'Second');
    expect((await replies(contact.id)).map((r) => r.status)).to.deep.equal(['pending', 'pending']);

    const res = await who.client.patch<Contact>(`/api/contacts/${contact.id}`, { is_active: false });
    expect(res.status).to.equal(200);
    expect(res.body.is_active).to.equal(false);
    expect(await replies(contact.id)).to.deep.equal([
      { status: 'cancelled', failure_reason: 'contact_deactivated' },
      { status: 'cancelled', failure_reason: 'contact_deactivated' },
    ]);
    // Mail that arrives while inactive is recorded, not answered.
    await receive(who, contact, 'Third');
    expect(await replies(contact.id)).to.have.length(2);
    expect((await history(who.client, contact.id)).map((m) => m.subject)).to.deep.equal(['Third', 'Second', 'First']);
  });

  it('deletes a contact: replies cancelled, conversation ended, history still readable through its id and with include_deleted', async () => {
    const who = await owner('delete');
    const contact = await newContact(who.client, { name: 'Leaving' });
    const staying = await newContact(who.client, { name: 'Staying' });
    await receive(who, staying, 'Hello');
    await receive(who, contact, 'Before');
    const conversations = async () => (await who.client.get<Page<{ contact: { id: string } }>>('/api/conversations')).body.items.map((c) => c.contact.id);
    expect(await conversations()).to.deep.equal([contact.id, staying.id]);

    expect((await who.client.delete(`/api/contacts/${contact.id}`)).status).to.equal(204);
    expect(await replies(contact.id)).to.deep.equal([{ status: 'cancelled', failure_reason: 'contact_deleted' }]);
    expect(await conversations()).to.deep.equal([staying.id]);
    expect(await system.container.db('active_conversations').where({ contact_id: contact.id })).to.have.length(0);

    // Read through its id: the contact with deleted_at, and its history.
    const got = await who.client.get<Contact>(`/api/contacts/${contact.id}`);
    expect(got.status).to.equal(200);
    expect(got.body.deleted_at).to.be.a('string');
    expect(got.body.is_active).to.equal(false);
    expect((await history(who.client, contact.id)).map((m) => [m.message_direction, m.subject])).to.deep.equal([['received', 'Before']]);

    // Listed only with include_deleted.
    const ids = async (query: string) => (await who.client.get<Page<Contact>>(`/api/contacts${query}`)).body.items.map((c) => c.id);
    expect(await ids('')).to.deep.equal([staying.id]);
    expect(await ids('?include_deleted=true')).to.deep.equal([staying.id, contact.id]);
    expect(await ids('?include_deleted=true&is_active=false')).to.deep.equal([contact.id]);
    expect(await ids('?include_deleted=false')).to.deep.equal([staying.id]);

    // A deleted contact cannot be changed; deleting it again (a retry) changes nothing.
    const patch = await who.client.patch<ErrorBody>(`/api/contacts/${contact.id}`, { name: 'Back' });
    expect(patch.status).to.equal(409);
    expect(patch.body.error.code).to.equal('contact_deleted');
    expect((await who.client.delete(`/api/contacts/${contact.id}`)).status).to.equal(204);

    // The same address may become a new contact; new mail goes to it, the old history stays with the old id.
    const again = await newContact(who.client, { email: contact.email, name: 'Back again' });
    await receive(who, again, 'After');
    expect((await history(who.client, again.id)).map((m) => m.subject)).to.deep.equal(['After']);
    expect((await history(who.client, contact.id)).map((m) => m.subject)).to.deep.equal(['Before']);
    expect(await replies(again.id)).to.deep.equal([{ status: 'pending', failure_reason: null }]);
  });
});
