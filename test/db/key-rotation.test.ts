import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import type { Knex } from 'knex';
import { createKnex, migrateLatest } from '../../src/db/knex';
import { FieldCipher } from '../../src/crypto/field-cipher';
import { openColumn, sealColumns } from '../../src/db/encrypted-columns';
import { newId } from '../../src/db/ids';
import { createKeyRotation } from '../../src/services/key-rotation';
import { createLogger } from '../../src/observability/logger';
import { testDatabaseUrl } from '../support/config';

const logger = createLogger({ level: 'silent', pretty: false });
const key = (version: string) => ({ version, key: randomBytes(32) });

/**
 * Key rotation on a database of its own (the run's shared database must keep the test key): every
 * encrypted column re-encrypted under the new key, in resumable batches, after which the old key
 * can go.
 */
describe('re-encryption under a new key', function () {
  this.timeout(30000);
  const oldKey = key('k1');
  const newKey = key('k2');
  const oldOnly = new FieldCipher([oldKey], oldKey);
  const rotating = new FieldCipher([oldKey, newKey], newKey);
  const newOnly = new FieldCipher([newKey], newKey);
  const database = `ga_test_rotation_${randomBytes(4).toString('hex')}`;
  let db: Knex;
  let admin: Client;
  const contacts: Array<{ id: string; name: string }> = [];
  let userId: string;

  before(async () => {
    const adminUrl = new URL(testDatabaseUrl());
    adminUrl.pathname = '/postgres';
    admin = new Client({ connectionString: adminUrl.toString() });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${database}"`);
    const url = new URL(testDatabaseUrl());
    url.pathname = `/${database}`;
    db = createKnex({ databaseUrl: url.toString(), poolMax: 2 });
    await migrateLatest(db);
    userId = newId();
    await db('users').insert({ id: userId, email: 'rotation@example.com', google_sub: 'sub-rotation', name: 'R' });
    await db('gmail_connections').insert({ user_id: userId, ...sealColumns(oldOnly, 'gmail_connections', userId, { refresh_token: '1//refresh', access_token: 'ya29.access' }) });
    for (let i = 0; i < 5; i += 1) {
      const id = newId();
      const name = `Контакт ${i}`;
      contacts.push({ id, name });
      await db('contacts').insert({ id, user_id: userId, email_hash: `h${i}`, ...sealColumns(oldOnly, 'contacts', id, { email: `c${i}@example.org`, name, description_ai: `note ${i}` }) });
    }
  });
  after(async () => {
    await db.destroy();
    await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    await admin.end();
  });

  it('stops after the batches it was given and resumes where it stopped, until nothing uses the old key', async () => {
    const rotation = createKeyRotation({ db, cipher: rotating, logger });
    expect(await rotation.remaining()).to.equal(5 * 3 + 2);
    const first = await rotation.run({ batchSize: 2, maxBatches: 1 });
    expect(first[0]).to.include({ table: 'contacts', scanned: 2, reencrypted: 2, done: false });
    expect(await rotation.remaining()).to.equal(3 * 3 + 2);
    const progress = await db('reencryption_progress').where({ table_name: 'contacts' }).first();
    expect(progress).to.include({ target_key_version: 'k2', done: false });

    const second = await createKeyRotation({ db, cipher: rotating, logger }).run({ batchSize: 2 });
    expect(second.map((r) => [r.table, r.reencrypted, r.done])).to.deep.equal([
      ['contacts', 3, true],
      ['message_history', 0, true],
      ['gmail_connections', 1, true],
    ]);
    expect(await rotation.remaining()).to.equal(0);
  });

  it('leaves every value readable with the new key alone', async () => {
    for (const c of contacts) {
      const row = await db('contacts').where({ id: c.id }).first();
      expect(row.name.startsWith('k2.')).to.equal(true);
      expect(openColumn(newOnly, 'contacts', 'name', c.id, row.name)).to.equal(c.name);
    }
    const connection = await db('gmail_connections').where({ user_id: userId }).first();
    expect(openColumn(newOnly, 'gmail_connections', 'refresh_token', userId, connection.refresh_token)).to.equal('1//refresh');
  });

  it('does nothing more on a run after it finished', async () => {
    const again = await createKeyRotation({ db, cipher: rotating, logger }).run();
    expect(again.every((r) => r.scanned === 0 && r.reencrypted === 0 && r.done)).to.equal(true);
  });
});
