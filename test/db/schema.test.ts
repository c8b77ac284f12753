import { expect } from 'chai';
import { Client } from 'pg';
import { newId } from '../../src/db/ids';
import { testDatabaseUrl } from '../support/config';
import { uniqueEmail } from '../support/http-client';

/** The constraints of the schema, checked with raw SQL against the migrated test database. */
describe('schema constraints', () => {
  let pg: Client;
  let userId: string;
  let otherUserId: string;

  before(async () => {
    pg = new Client({ connectionString: testDatabaseUrl() });
    await pg.connect();
    userId = await insertUser();
    otherUserId = await insertUser();
  });
  after(async () => {
    await pg.end();
  });

  async function insertUser(email = uniqueEmail('schema')): Promise<string> {
    const id = newId();
    await pg.query(`INSERT INTO users (id, email, google_sub, name) VALUES ($1, $2, $3, 'S')`, [id, email, `sub-${id}`]);
    return id;
  }

  async function insertContact(owner: string, emailHash: string, deleted = false): Promise<string> {
    const id = newId();
    await pg.query(
      `INSERT INTO contacts (id, user_id, email, email_hash, name, description_ai, deleted_at) VALUES ($1, $2, 'x', $3, 'x', 'x', $4)`,
      [id, owner, emailHash, deleted ? new Date() : null],
    );
    return id;
  }

  async function insertMessage(owner: string, contactId: string, gmailId: string, direction = 'received'): Promise<string> {
    const id = newId();
    await pg.query(
      `INSERT INTO message_history (id, user_id, contact_id, message_direction, message_text, subject, timestamp, gmail_message_id, gmail_thread_id)
       VALUES ($1, $2, $3, $4, 'x', 'x', now(), $5, $5)`,
      [id, owner, contactId, direction, gmailId],
    );
    return id;
  }

  async function violation(sql: Promise<unknown>): Promise<string> {
    try {
      await sql;
    } catch (err) {
      return (err as { code: string }).code;
    }
    throw new Error('the statement was accepted');
  }

  it('stores user emails in lower case only, each once', async () => {
    expect(await violation(insertUser('Upper@Example.com'))).to.equal('23514');
    const email = uniqueEmail('once');
    await insertUser(email);
    expect(await violation(insertUser(email))).to.equal('23505');
  });

  it('allows one live contact per user and email hash, any number of deleted ones', async () => {
    await insertContact(userId, 'hash-a');
    expect(await violation(insertContact(userId, 'hash-a'))).to.equal('23505');
    await insertContact(userId, 'hash-a', true);
    await insertContact(userId, 'hash-a', true);
    await insertContact(otherUserId, 'hash-a');
  });

  it('keeps one message_history row per user and Gmail message id', async () => {
    const contact = await insertContact(userId, `hash-${newId()}`);
    await insertMessage(userId, contact, 'gmail-1');
    expect(await violation(insertMessage(userId, contact, 'gmail-1'))).to.equal('23505');
    const otherContact = await insertContact(otherUserId, `hash-${newId()}`);
    await insertMessage(otherUserId, otherContact, 'gmail-1');
  });

  it('knows only the sent and received directions', async () => {
    const contact = await insertContact(userId, `hash-${newId()}`);
    await insertMessage(userId, contact, `g-${newId()}`, 'sent');
    expect(await violation(insertMessage(userId, contact, `g-${newId()}`, 'forwarded'))).to.equal('22P02');
  });

  it("refuses a message or conversation that points at another user's contact", async () => {
    const foreign = await insertContact(otherUserId, `hash-${newId()}`);
    expect(await violation(insertMessage(userId, foreign, `g-${newId()}`))).to.equal('23503');
    expect(
      await violation(pg.query(`INSERT INTO active_conversations (id, user_id, contact_id, last_interaction_at) VALUES ($1, $2, $3, now())`, [newId(), userId, foreign])),
    ).to.equal('23503');
  });

  it('keeps one active conversation per user and contact', async () => {
    const contact = await insertContact(userId, `hash-${newId()}`);
    const insert = () => pg.query(`INSERT INTO active_conversations (id, user_id, contact_id, last_interaction_at) VALUES ($1, $2, $3, now())`, [newId(), userId, contact]);
    await insert();
    expect(await violation(insert())).to.equal('23505');
  });

  it('removes everything of a user with the user', async () => {
    const owner = await insertUser();
    const contact = await insertContact(owner, `hash-${newId()}`);
    await insertMessage(owner, contact, `g-${newId()}`);
    await pg.query(`INSERT INTO active_conversations (id, user_id, contact_id, last_interaction_at) VALUES ($1, $2, $3, now())`, [newId(), owner, contact]);
    await pg.query(`INSERT INTO gmail_connections (user_id) VALUES ($1)`, [owner]);
    await pg.query('DELETE FROM users WHERE id = $1', [owner]);
    for (const table of ['contacts', 'message_history', 'active_conversations', 'gmail_connections']) {
      const { rows } = await pg.query(`SELECT count(*)::int AS n FROM ${table} WHERE user_id = $1`, [owner]);
      expect(rows[0].n, table).to.equal(0);
    }
  });

  it('knows only the ok and needs_reconsent connection states', async () => {
    const owner = await insertUser();
    expect(await violation(pg.query(`INSERT INTO gmail_connections (user_id, status) VALUES ($1, 'broken')`, [owner]))).to.equal('23514');
  });
});
