import { expect } from 'chai';
import type { Knex } from 'knex';
import { createKnex } from '../../src/db/knex';
import { DEMO_USER_EMAIL, seed } from '../../seeds/01_demo_user';
import { TEST_SECRETS, testDatabaseUrl } from '../support/config';
import { signIn } from '../support/http-client';
import { startTestSystem, type TestSystem } from '../support/system';

describe('seeds', () => {
  let db: Knex;
  let system: TestSystem;
  const saved: Record<string, string | undefined> = {};

  before(async () => {
    // The seed reads its keys from the environment, as `npm run seed` does.
    for (const [name, value] of Object.entries(TEST_SECRETS)) {
      saved[name] = process.env[name];
      process.env[name] = value;
    }
    db = createKnex({ databaseUrl: testDatabaseUrl(), poolMax: 2 });
    system = await startTestSystem({ worker: false });
  });
  after(async () => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await db.destroy();
    await system.close();
  });

  it('creates a demo user with contacts, and running it again changes nothing', async () => {
    await seed(db);
    await seed(db);
    const users = await db('users').where({ email: DEMO_USER_EMAIL });
    expect(users).to.have.length(1);
    const contacts = await db('contacts').where({ user_id: users[0].id });
    expect(contacts).to.have.length(3);
    expect(contacts.filter((c: { is_active: boolean }) => c.is_active)).to.have.length(2);
    // stored encrypted
    expect(contacts.every((c: { email: string }) => !c.email.includes('@'))).to.equal(true);
  });

  it('is the user that signing in through the sandbox as the demo address finds', async () => {
    const seeded = await db('users').where({ email: DEMO_USER_EMAIL }).first('id');
    const client = await signIn(system.baseUrl, DEMO_USER_EMAIL);
    const me = await client.get<{ id: string; email: string }>('/api/me');
    expect(me.status).to.equal(200);
    expect(me.body.id).to.equal(seeded.id);
    const contacts = await client.get<{ items: Array<{ email: string; name: string; description_ai: string }> }>('/api/contacts');
    expect(contacts.body.items.map((c) => c.email).sort()).to.deep.equal(['anna.petrova@example.org', 'bob@example.net', 'carol@example.com']);
    expect(contacts.body.items.every((c) => c.description_ai.length > 10)).to.equal(true);
  });
});
