import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { signIn, uniqueEmail, type HttpClient } from '../support/http-client';
import { startTestSystem, type TestSystem } from '../support/system';
import { insertHistoryMessage } from '../../src/services/message-history';
import { touchConversation } from '../../src/services/conversations';

interface Page<T> {
  items: T[];
  next_cursor: string | null;
}
interface Contact {
  id: string;
  name: string;
}
interface Message {
  id: string;
  contact_id: string;
  subject: string;
  timestamp: string;
  message_direction: string;
}
interface Conversation {
  id: string;
  contact: Contact;
  last_interaction_at: string;
  last_message: Message | null;
}

/**
 * Keyset pages stay correct while rows are added or removed between two pages: no row is given
 * twice, no row that lived through the whole walk is missed, and the order holds.
 */
describe('keyset pagination of the lists', () => {
  let system: TestSystem;

  before(async () => {
    system = await startTestSystem({ worker: false });
  });
  after(async () => {
    await system.close();
  });

  async function owner(): Promise<{ client: HttpClient; userId: string }> {
    const client = await signIn(system.baseUrl, uniqueEmail('pages'));
    return { client, userId: (await client.get<{ id: string }>('/api/me')).body.id };
  }
  const newContact = async (client: HttpClient, name: string, fields: Record<string, unknown> = {}) =>
    (await client.post<Contact>('/api/contacts', { email: uniqueEmail('p'), name, ...fields })).body;

  /** Records a message with a contact at a given time, as the pipeline does (history row + conversation). */
  async function message(userId: string, contactId: string, at: Date, subject: string, direction: 'sent' | 'received' = 'received'): Promise<string> {
    return system.container.db.transaction(async (trx) => {
      const id = await insertHistoryMessage(trx, system.container.cipher, {
        userId, contactId, direction, text: `Text of ${subject}`, subject, timestamp: at, gmailMessageId: `gm-${randomUUID()}`, gmailThreadId: 'thread-1',
      });
      await touchConversation(trx, { userId, contactId, messageId: id!, at });
      return id!;
    });
  }

  /** Walks a list page by page, calling `between` after each page; returns every item in order. */
  async function walk<T>(client: HttpClient, path: string, limit: number, between: (page: number) => Promise<void> = async () => undefined): Promise<T[]> {
    const seen: T[] = [];
    let cursor: string | null = null;
    let page = 0;
    do {
      const sep = path.includes('?') ? '&' : '?';
      const res: { status: number; body: Page<T> } = await client.get<Page<T>>(`${path}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(res.status).to.equal(200);
      expect(res.body.items.length).to.be.at.most(limit);
      seen.push(...res.body.items);
      cursor = res.body.next_cursor;
      page += 1;
      if (cursor) await between(page);
    } while (cursor && page < 100);
    return seen;
  }

  const t = (minutes: number) => new Date(Date.UTC(2026, 0, 1, 12) + minutes * 60_000);

  it('contacts: added and deleted between pages, no repeat and no miss, newest first', async () => {
    const { client } = await owner();
    const made: Contact[] = [];
    for (let i = 0; i < 9; i += 1) made.push(await newContact(client, `C${i}`, { is_active: i % 2 === 0 }));
    const [c0, c1, , , , , , , c8] = made;
    const deleted = new Set<string>();
    const seen = await walk<Contact>(client, '/api/contacts', 3, async (page) => {
      if (page === 1) {
        // The last contact of the page just read (the cursor's own row) and one not yet read go away; two are added.
        await client.delete(`/api/contacts/${made[6]!.id}`);
        await client.delete(`/api/contacts/${made[3]!.id}`);
        deleted.add(made[6]!.id).add(made[3]!.id);
        await newContact(client, 'New 1');
        await newContact(client, 'New 2');
      }
      if (page === 2) {
        await client.delete(`/api/contacts/${c1!.id}`);
        deleted.add(c1!.id);
      }
    });
    const ids = seen.map((c) => c.id);
    expect(new Set(ids).size, 'no repeat').to.equal(ids.length);
    const expected = made.map((c) => c.id).reverse().filter((id) => id !== made[3]!.id && id !== c1!.id);
    expect(ids).to.deep.equal(expected); // made[6] was read before it went away
    expect(ids[0]).to.equal(c8!.id);
    expect(ids.at(-1)).to.equal(c0!.id);
    // A fresh walk shows the new ones first and not the deleted ones.
    const fresh = (await walk<Contact>(client, '/api/contacts', 4)).map((c) => c.name);
    expect(fresh.slice(0, 2)).to.deep.equal(['New 2', 'New 1']);
    expect(fresh).to.not.include.members(['C1', 'C3', 'C6']);
    expect(fresh).to.have.length(8);
  });

  it('contacts: the filters hold across pages while rows change', async () => {
    const { client } = await owner();
    const made: Contact[] = [];
    for (let i = 0; i < 8; i += 1) made.push(await newContact(client, `F${i}`, { is_active: i % 2 === 0 }));
    const active = await walk<Contact & { is_active: boolean }>(client, '/api/contacts?is_active=true', 1, async (page) => {
      if (page === 1) {
        await client.patch(`/api/contacts/${made[4]!.id}`, { is_active: false }); // not yet read: drops out
        await client.delete(`/api/contacts/${made[0]!.id}`);
      }
    });
    expect(active.map((c) => c.name)).to.deep.equal(['F6', 'F2']);
    expect(active.every((c) => c.is_active)).to.equal(true);
    const withDeleted = await walk<Contact>(client, '/api/contacts?include_deleted=true', 3, async (page) => {
      if (page === 1) await client.delete(`/api/contacts/${made[1]!.id}`);
    });
    expect(withDeleted.map((c) => c.name)).to.deep.equal(['F7', 'F6', 'F5', 'F4', 'F3', 'F2', 'F1', 'F0']);
  });

  it('messages: newest first, ties broken by id, rows added between pages in their place', async () => {
    const { client, userId } = await owner();
    const contact = await newContact(client, 'History');
    for (const [minute, subject] of [[1, 'm1'], [2, 'm2'], [3, 'm3a'], [3, 'm3b'], [3, 'm3c'], [4, 'm4'], [5, 'm5']] as const) {
      await message(userId, contact.id, t(minute), subject, minute % 2 ? 'received' : 'sent');
    }
    const seen = await walk<Message>(client, `/api/contacts/${contact.id}/messages`, 2, async (page) => {
      if (page === 1) {
        await message(userId, contact.id, t(9), 'newer than the walk'); // before the cursor: not in this walk
        await message(userId, contact.id, t(2.5), 'm2.5 late'); // still ahead: read in its place
      }
    });
    const subjects = seen.map((m) => m.subject);
    expect(new Set(seen.map((m) => m.id)).size).to.equal(seen.length);
    expect(subjects).to.have.members(['m5', 'm4', 'm3a', 'm3b', 'm3c', 'm2.5 late', 'm2', 'm1']);
    expect(subjects.indexOf('m2.5 late')).to.equal(subjects.indexOf('m2') - 1);
    for (let i = 1; i < seen.length; i += 1) {
      const [a, b] = [seen[i - 1]!, seen[i]!];
      const order = Date.parse(a.timestamp) - Date.parse(b.timestamp) || (a.id > b.id ? 1 : -1);
      expect(order, `${a.subject} before ${b.subject}`).to.be.greaterThan(0);
    }
    expect(seen.every((m) => m.contact_id === contact.id)).to.equal(true);
    const first = (await client.get<Page<Message>>(`/api/contacts/${contact.id}/messages?limit=1`)).body.items[0]!;
    expect(first.subject).to.equal('newer than the walk');
  });

  it('conversations: most recent first with contact and last message; one that moves up mid-walk is never given twice', async () => {
    const { client, userId } = await owner();
    const contacts: Contact[] = [];
    for (let i = 1; i <= 5; i += 1) {
      const c = await newContact(client, `K${i}`);
      contacts.push(c);
      await message(userId, c.id, t(i), `from K${i}`);
    }
    const [k1, k2, , k4, k5] = contacts;
    await message(userId, k5!.id, t(6), 'answer to K5', 'sent');

    const fresh = (await client.get<Page<Conversation>>('/api/conversations')).body.items;
    expect(fresh.map((c) => c.contact.name)).to.deep.equal(['K5', 'K4', 'K3', 'K2', 'K1']);
    expect(fresh[0]!.last_message).to.include({ subject: 'answer to K5', message_direction: 'sent', contact_id: k5!.id });
    expect(fresh[0]!.last_interaction_at).to.equal(t(6).toISOString());
    for (const c of fresh) expect(c.last_message!.contact_id).to.equal(c.contact.id);

    const seen = await walk<Conversation>(client, '/api/conversations', 2, async (page) => {
      if (page === 1) {
        await message(userId, k2!.id, t(10), 'K2 again'); // not read yet, moves ahead of the cursor
        await message(userId, k4!.id, t(11), 'K4 again'); // read already, moves up again
        await client.delete(`/api/contacts/${k1!.id}`); // its conversation ends
        const k6 = await newContact(client, 'K6');
        await message(userId, k6.id, t(0), 'old mail of a new contact'); // behind the cursor: read in its place
      }
    });
    const names = seen.map((c) => c.contact.name);
    expect(new Set(seen.map((c) => c.id)).size, names.join()).to.equal(seen.length);
    expect(names).to.deep.equal(['K5', 'K4', 'K3', 'K6']);
    const after = (await client.get<Page<Conversation>>('/api/conversations')).body.items;
    expect(after.map((c) => c.contact.name)).to.deep.equal(['K4', 'K2', 'K5', 'K3', 'K6']);
    expect(after[0]!.last_message!.subject).to.equal('K4 again');
  });
});
