import { expect } from 'chai';
import { Client } from 'pg';
import { HttpClient, signIn, uniqueEmail } from '../support/http-client';
import { startTestSystem, type TestSystem } from '../support/system';
import { testDatabaseUrl } from '../support/config';

interface ContactBody {
  id: string;
  email: string;
  name: string;
  description_ai: string;
  is_active: boolean;
  deleted_at: string | null;
  created_at: string;
  updated_at: string;
}
interface ErrorBody {
  error: { code: string; message: string; details: Array<{ path?: string; message: string }> };
}
interface PageBody<T> {
  items: T[];
  next_cursor: string | null;
}

describe('contacts API', () => {
  let system: TestSystem;
  let alice: HttpClient;
  let bob: HttpClient;
  let pg: Client;

  before(async () => {
    system = await startTestSystem({ worker: false });
    alice = await signIn(system.baseUrl, uniqueEmail('alice'));
    bob = await signIn(system.baseUrl, uniqueEmail('bob'));
    pg = new Client({ connectionString: testDatabaseUrl() });
    await pg.connect();
  });
  after(async () => {
    await pg.end();
    await system.close();
  });

  const create = (client: HttpClient, body: Record<string, unknown>) => client.post<ContactBody & ErrorBody>('/api/contacts', body);

  it('creates a contact and answers 201 with it', async () => {
    const res = await create(alice, { email: 'Anna@Example.org', name: 'Анна Петрова', description_ai: 'Supplier; be brief.', is_active: true });
    expect(res.status).to.equal(201);
    expect(res.body).to.include({ email: 'Anna@Example.org', name: 'Анна Петрова', description_ai: 'Supplier; be brief.', is_active: true, deleted_at: null });
    expect(res.body.id).to.match(/^[0-9a-f-]{36}$/);
    expect(Object.keys(res.body).sort()).to.deep.equal(['created_at', 'deleted_at', 'description_ai', 'email', 'id', 'is_active', 'name', 'updated_at']);
  });

  it('defaults description_ai to empty and is_active to false', async () => {
    const res = await create(alice, { email: uniqueEmail('c'), name: 'Default' });
    expect(res.status).to.equal(201);
    expect(res.body.description_ai).to.equal('');
    expect(res.body.is_active).to.equal(false);
  });

  it('stores email, name and description encrypted, with a blind index of the email', async () => {
    const res = await create(alice, { email: 'secret.contact@example.org', name: 'Secret Name', description_ai: 'Secret instruction' });
    const { rows } = await pg.query('SELECT email, name, description_ai, email_hash FROM contacts WHERE id = $1', [res.body.id]);
    const row = rows[0];
    expect(JSON.stringify(row)).to.not.match(/secret\.contact|Secret Name|Secret instruction/);
    expect(row.email_hash).to.be.a('string').with.length.greaterThan(20);
  });

  it('refuses a second live contact with the same email, case-insensitively (409)', async () => {
    const email = uniqueEmail('dup');
    expect((await create(alice, { email, name: 'One' })).status).to.equal(201);
    const again = await create(alice, { email: email.toUpperCase(), name: 'Two' });
    expect(again.status).to.equal(409);
    expect(again.body.error.code).to.equal('contact_exists');
    // Another user may hold the same address.
    expect((await create(bob, { email, name: 'Bob’s' })).status).to.equal(201);
  });

  it('validates bodies with a 400 naming each problem', async () => {
    const cases: Array<[unknown, string]> = [
      [{ name: 'No email' }, 'body.email'],
      [{ email: 'not-an-email', name: 'X' }, 'body.email'],
      [{ email: uniqueEmail(), name: '' }, 'body.name'],
      [{ email: uniqueEmail(), name: 'X', is_active: 'yes' }, 'body.is_active'],
      [{ email: uniqueEmail(), name: 'X', user_id: 'someone-else' }, 'body.user_id'],
      [{ email: uniqueEmail(), name: 'X', id: '00000000-0000-0000-0000-000000000000' }, 'body.id'],
      [{ email: uniqueEmail(), name: 'X', deleted_at: null }, 'body.deleted_at'],
    ];
    for (const [body, path] of cases) {
      const res = await alice.post<ErrorBody>('/api/contacts', body);
      expect(res.status, JSON.stringify(body)).to.equal(400);
      expect(res.body.error.code).to.equal('validation_failed');
      expect(res.body.error.details.map((d) => d.path)).to.include(path);
    }
  });

  it('answers malformed JSON, a JSON array and a wrong content type with 4xx JSON errors', async () => {
    const malformed = await alice.request<ErrorBody>('POST', '/api/contacts', { body: '{"email":', headers: { 'content-type': 'application/json' } });
    expect(malformed.status).to.equal(400);
    expect(malformed.body.error.code).to.equal('malformed_json');
    const array = await alice.request<ErrorBody>('POST', '/api/contacts', { json: [1, 2] });
    expect(array.status).to.equal(400);
    const form = await alice.request<ErrorBody>('POST', '/api/contacts', { body: 'email=a@b.c', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(form.status).to.equal(415);
    expect(form.body.error.code).to.equal('unsupported_media_type');
  });

  it('gets, updates and soft-deletes a contact', async () => {
    const created = (await create(alice, { email: uniqueEmail('life'), name: 'Life', description_ai: 'v1' })).body;
    const got = await alice.get<ContactBody>(`/api/contacts/${created.id}`);
    expect(got.status).to.equal(200);
    expect(got.body).to.deep.equal(created);

    const patched = await alice.patch<ContactBody>(`/api/contacts/${created.id}`, { description_ai: 'v2', is_active: true });
    expect(patched.status).to.equal(200);
    expect(patched.body).to.include({ description_ai: 'v2', is_active: true, name: 'Life' });
    expect(Date.parse(patched.body.updated_at)).to.be.at.least(Date.parse(created.updated_at));

    expect((await alice.delete(`/api/contacts/${created.id}`)).status).to.equal(204);
    const after = await alice.get<ContactBody>(`/api/contacts/${created.id}`);
    expect(after.status).to.equal(200);
    expect(after.body.deleted_at).to.be.a('string');
    // Deleting again (a retry) is answered 204 and changes nothing.
    expect((await alice.delete(`/api/contacts/${created.id}`)).status).to.equal(204);
    expect((await alice.get<ContactBody>(`/api/contacts/${created.id}`)).body.deleted_at).to.equal(after.body.deleted_at);
    // The address is free again for a new live contact.
    expect((await create(alice, { email: created.email, name: 'Life again' })).status).to.equal(201);
  });

  it('refuses an empty or unknown-field update, and an email already live', async () => {
    const a = (await create(alice, { email: uniqueEmail('a'), name: 'A' })).body;
    const b = (await create(alice, { email: uniqueEmail('b'), name: 'B' })).body;
    expect((await alice.patch(`/api/contacts/${a.id}`, {})).status).to.equal(400);
    expect((await alice.patch(`/api/contacts/${a.id}`, { created_at: '2020-01-01T00:00:00Z' })).status).to.equal(400);
    const clash = await alice.patch<ErrorBody>(`/api/contacts/${a.id}`, { email: b.email.toUpperCase() });
    expect(clash.status).to.equal(409);
    expect((await alice.get<ContactBody>(`/api/contacts/${a.id}`)).body.email).to.equal(a.email);
  });

  it('answers another user’s contact exactly like a missing one (404)', async () => {
    const mine = (await create(alice, { email: uniqueEmail('mine'), name: 'Mine' })).body;
    const missing = await bob.get<ErrorBody>('/api/contacts/0190a3c4-0000-7000-8000-000000000000');
    for (const res of [
      await bob.get<ErrorBody>(`/api/contacts/${mine.id}`),
      await bob.patch<ErrorBody>(`/api/contacts/${mine.id}`, { name: 'stolen' }),
      await bob.delete<ErrorBody>(`/api/contacts/${mine.id}`),
      await bob.get<ErrorBody>(`/api/contacts/${mine.id}/messages`),
    ]) {
      expect(res.status).to.equal(404);
      expect(res.body).to.deep.equal(missing.body);
    }
    expect((await alice.get<ContactBody>(`/api/contacts/${mine.id}`)).body.name).to.equal('Mine');
  });

  it('takes an upper-case id as the same contact and keeps its fields readable', async () => {
    const created = (await create(alice, { email: uniqueEmail('upper'), name: 'Upper', description_ai: 'v1' })).body;
    const upper = created.id.toUpperCase();
    const patched = await alice.patch<ContactBody>(`/api/contacts/${upper}`, { name: 'Upper 2', description_ai: 'v2' });
    expect(patched.status).to.equal(200);
    expect(patched.body).to.include({ id: created.id, name: 'Upper 2', description_ai: 'v2' });
    expect((await alice.get<ContactBody>(`/api/contacts/${created.id}`)).body).to.include({ name: 'Upper 2', description_ai: 'v2' });
    expect((await alice.get<ContactBody>(`/api/contacts/${upper}`)).body.id).to.equal(created.id);
    expect((await alice.get('/api/contacts?limit=200')).status).to.equal(200);
    expect((await alice.delete(`/api/contacts/${upper}`)).status).to.equal(204);
    expect((await alice.get('/api/contacts?include_deleted=true&limit=200')).status).to.equal(200);
  });

  it('refuses blank or control-character names and over-long addresses', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ email: uniqueEmail(), name: '   ' }, 'body.name'],
      [{ email: uniqueEmail(), name: 'Line\r\nBcc: x@y.z' }, 'body.name'],
      [{ email: uniqueEmail(), name: 'Nul\u0000' }, 'body.name'],
      [{ email: uniqueEmail(), name: '\u200b' }, 'body.name'],
      [{ email: uniqueEmail(), name: ' \ufeff\u2060 ' }, 'body.name'],
      [{ email: uniqueEmail(), name: 'abc\u202edef' }, 'body.name'],
      [{ email: uniqueEmail(), name: 'Anna\u2066x' }, 'body.name'],
      [{ email: uniqueEmail(), name: 'non\uffff' }, 'body.name'],
      [{ email: uniqueEmail(), name: 'X', description_ai: 'nul \u0000 inside' }, 'body.description_ai'],
      [{ email: `${'a'.repeat(65)}@example.org`, name: 'X' }, 'body.email'],
      [{ email: `a@${'b'.repeat(250)}.org`, name: 'X' }, 'body.email'],
    ];
    for (const [body, path] of cases) {
      const res = await alice.post<ErrorBody>('/api/contacts', body);
      expect(res.status, JSON.stringify(body)).to.equal(400);
      expect(res.body.error.details.map((d) => d.path)).to.include(path);
    }
    const multiline = await create(alice, { email: uniqueEmail('ml'), name: 'Émile Zola', description_ai: 'Line one.\nLine two.' });
    expect(multiline.status).to.equal(201);
    for (const name of ['Анна Петрова', '李小龙', 'محمد', 'Zoë \u{1F600}', 'Jean\u200dLuc']) {
      expect((await create(alice, { email: uniqueEmail('intl'), name })).status, name).to.equal(201);
    }
  });

  it('answers a JSON body that is not an object with 400 naming it, not as malformed', async () => {
    for (const body of ['null', '"text"', '42']) {
      const res = await alice.request<ErrorBody>('POST', '/api/contacts', { body, headers: { 'content-type': 'application/json' } });
      expect(res.status, body).to.equal(400);
      expect(res.body.error.code, body).to.equal('validation_failed');
      expect(res.body.error.details[0]!.path).to.equal('body');
    }
  });

  it('answers an invalid id with 400', async () => {
    const res = await alice.get<ErrorBody>('/api/contacts/not-a-uuid');
    expect(res.status).to.equal(400);
    expect(res.body.error.details[0]!.path).to.equal('params.id');
  });

  it('lists live contacts with the is_active filter and keyset pages', async () => {
    const carol = await signIn(system.baseUrl, uniqueEmail('carol'));
    const made: ContactBody[] = [];
    for (let i = 0; i < 7; i += 1) made.push((await create(carol, { email: uniqueEmail(`p${i}`), name: `P${i}`, is_active: i % 2 === 0 })).body);
    await carol.delete(`/api/contacts/${made[0]!.id}`);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: PageBody<ContactBody> } = await carol.get<PageBody<ContactBody>>(`/api/contacts?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).to.equal(200);
      expect(page.body.items.length).to.be.at.most(2);
      seen.push(...page.body.items.map((c) => c.id));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(seen).to.deep.equal(made.slice(1).map((c) => c.id).reverse());

    const active = await carol.get<PageBody<ContactBody>>('/api/contacts?is_active=true');
    expect(active.body.items.map((c) => c.name).sort()).to.deep.equal(['P2', 'P4', 'P6']);
    const inactive = await carol.get<PageBody<ContactBody>>('/api/contacts?is_active=false');
    expect(inactive.body.items.map((c) => c.name).sort()).to.deep.equal(['P1', 'P3', 'P5']);
    const withDeleted = await carol.get<PageBody<ContactBody>>('/api/contacts?include_deleted=true');
    expect(withDeleted.body.items).to.have.length(7);
  });

  it('refuses bad list parameters and cursors with 400', async () => {
    for (const query of ['limit=0', 'limit=201', 'limit=abc', 'is_active=maybe', 'unknown=1']) {
      expect((await alice.get(`/api/contacts?${query}`)).status, query).to.equal(400);
    }
    const bad = await alice.get<ErrorBody>('/api/contacts?cursor=not-a-cursor');
    expect(bad.status).to.equal(400);
    expect(bad.body.error.code).to.equal('invalid_cursor');
  });

  it('needs a session for every contacts route', async () => {
    const anonymous = new HttpClient(system.baseUrl);
    expect((await anonymous.get('/api/contacts')).status).to.equal(401);
    expect((await anonymous.post('/api/contacts', { email: 'x@y.z', name: 'X' })).status).to.equal(401);
  });
});
