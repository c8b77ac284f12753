import net from 'node:net';
import { deflateSync, gzipSync } from 'node:zlib';
import { expect } from 'chai';
import { HttpClient, signIn, uniqueEmail, type HttpResponse } from '../support/http-client';
import { startTestSystem, type TestSystem } from '../support/system';
import { ERROR_CODES } from '../../src/schemas/errors';
import { encodeCursor } from '../../src/services/pagination';

interface ErrorBody {
  error: { code: string; message: string; details: Array<{ path?: string; message: string }> };
}

/** The SPEC's error format, a code listed in the document with this status, and a message. */
function expectError(res: HttpResponse<unknown>, status: number, code: string): ErrorBody['error'] {
  expect(res.status, res.text).to.equal(status);
  expect(res.headers.get('content-type')).to.match(/^application\/json/);
  const body = res.body as ErrorBody;
  expect(Object.keys(body)).to.deep.equal(['error']);
  expect(Object.keys(body.error).sort()).to.deep.equal(['code', 'details', 'message']);
  expect(body.error.code).to.equal(code);
  expect(ERROR_CODES[code as keyof typeof ERROR_CODES]?.status, code).to.equal(status);
  expect(body.error.message).to.be.a('string').and.not.equal('');
  expect(body.error.details).to.be.an('array');
  return body.error;
}

describe('errors: one format, a stable code each', () => {
  let system: TestSystem;
  let user: HttpClient;
  let admin: HttpClient;
  let contactId: string;
  const adminEmail = uniqueEmail('operator');

  before(async () => {
    system = await startTestSystem({ worker: false, overrides: { ADMIN_EMAILS: adminEmail } });
    user = await signIn(system.baseUrl, uniqueEmail('errors'));
    admin = await signIn(system.baseUrl, adminEmail);
    contactId = (await user.post<{ id: string }>('/api/contacts', { email: uniqueEmail('c'), name: 'C' })).body.id;
  });
  after(async () => {
    await system.close();
  });

  it('answers an unknown route with 404 not_found, signed in or not', async () => {
    for (const [client, path] of [
      [new HttpClient(system.baseUrl), '/nowhere'],
      [new HttpClient(system.baseUrl), '/api/nowhere'],
      [user, '/api/contacts/0190a3c4-0000-7000-8000-000000000000/nowhere'],
      [user, '/admin/users'],
    ] as const) {
      expectError(await client.get(path), 404, 'not_found');
    }
  });

  it('answers a known route with a wrong method with 405 method_not_allowed and the methods in Allow', async () => {
    const cases: Array<[HttpClient, string, string, string[]]> = [
      [user, 'PUT', '/api/contacts', ['GET', 'POST']],
      [user, 'POST', `/api/contacts/${contactId}`, ['GET', 'PATCH', 'DELETE']],
      [user, 'POST', '/api/me', ['GET', 'DELETE']],
      [user, 'DELETE', '/api/conversations', ['GET']],
      [new HttpClient(system.baseUrl), 'GET', '/webhooks/gmail', ['POST']],
      [new HttpClient(system.baseUrl), 'DELETE', '/livez', ['GET']],
      [new HttpClient(system.baseUrl), 'POST', '/openapi.json', ['GET']],
      [admin, 'GET', '/admin/users/a@example.com/subscription', ['PUT']],
    ];
    for (const [client, method, path, allowed] of cases) {
      const res = await client.request(method, path, method === 'GET' ? {} : { json: {} });
      expectError(res, 405, 'method_not_allowed');
      const allow = (res.headers.get('allow') ?? '').split(/,\s*/);
      for (const m of allowed) expect(allow, `${method} ${path}`).to.include(m);
      expect(allow, `${method} ${path}`).to.not.include(method);
    }
  });

  it('answers a method the server does not know with 405 method_not_allowed and the methods it allows', async () => {
    for (const method of ['PROPFIND', 'MKCOL']) {
      const res = await user.request(method, '/api/contacts', { headers: { 'x-requested-with': 'fetch' } });
      expectError(res, 405, 'method_not_allowed');
      expect(res.headers.get('allow')).to.include('GET');
    }
    // Not a state-changing method of ours: 405 even without Origin or X-Requested-With.
    const bare = await fetch(`${system.baseUrl}/api/contacts`, { method: 'PROPFIND', headers: { cookie: user.cookieHeader() } });
    expect(bare.status).to.equal(405);
    expect(((await bare.json()) as ErrorBody).error.code).to.equal('method_not_allowed');
  });

  it('answers malformed JSON with 400 malformed_json on every route that takes a body', async () => {
    for (const [client, method, path] of [
      [user, 'POST', '/api/contacts'],
      [user, 'PATCH', `/api/contacts/${contactId}`],
      [admin, 'PUT', `/admin/users/${encodeURIComponent(adminEmail)}/subscription`],
    ] as const) {
      expectError(await client.request(method, path, { body: '{"name": ', headers: { 'content-type': 'application/json' } }), 400, 'malformed_json');
    }
  });

  it('answers a body that is not JSON with 415 unsupported_media_type', async () => {
    for (const [client, method, path] of [
      [user, 'POST', '/api/contacts'],
      [user, 'PATCH', `/api/contacts/${contactId}`],
      [admin, 'PUT', `/admin/users/${encodeURIComponent(adminEmail)}/subscription`],
    ] as const) {
      for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
        expectError(await client.request(method, path, { body: 'name=x', headers: { 'content-type': type, 'x-requested-with': 'fetch' } }), 415, 'unsupported_media_type');
      }
    }
  });

  it('answers JSON declared in a charset other than UTF-8 with 415, and takes UTF-8 declared either way', async () => {
    for (const charset of ['utf-16', 'iso-8859-1', 'windows-1251']) {
      const res = await user.request('POST', '/api/contacts', { body: JSON.stringify({ email: uniqueEmail('cs'), name: 'Ё' }), headers: { 'content-type': `application/json; charset=${charset}` } });
      expectError(res, 415, 'unsupported_media_type');
    }
    for (const charset of ['utf-8', 'UTF8']) {
      const res = await user.request('POST', '/api/contacts', { body: JSON.stringify({ email: uniqueEmail('cs'), name: 'Ёлка' }), headers: { 'content-type': `application/json; charset=${charset}` } });
      expect(res.status, res.text).to.equal(201);
      expect((res.body as { name: string }).name).to.equal('Ёлка');
    }
  });

  it('names at most 20 problems of a body with many bad fields, and the first five in the message', async () => {
    const body = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`field_${i}`, i]));
    const error = expectError(await user.post('/api/contacts', body), 400, 'validation_failed');
    expect(error.details).to.have.length(20);
    expect(error.message.split('; ')).to.have.length(6);
    expect(error.message).to.match(/…$/);
  });

  it('answers a request whose headers Node refuses to read with a JSON 431, and bad HTTP with a JSON 400', async () => {
    const huge = await fetch(`${system.baseUrl}/api/me`, { headers: { 'x-padding': 'x'.repeat(20 * 1024) } });
    expect(huge.status).to.equal(431);
    expect(huge.headers.get('content-type')).to.match(/^application\/json/);
    expect(((await huge.json()) as ErrorBody).error.code).to.equal('headers_too_large');

    const { port } = new URL(system.baseUrl);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(Number(port), '127.0.0.1', () => socket.write('GET /livez HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n'));
      let answer = '';
      socket.on('data', (chunk) => (answer += chunk.toString('utf8')));
      socket.on('end', () => resolve(answer));
      socket.on('error', reject);
    });
    expect(raw).to.match(/^HTTP\/1\.1 400 /);
    expect(raw).to.match(/content-type: application\/json/i);
    expect(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)).error.code).to.equal('bad_request');
  });

  it('refuses a body that is not valid UTF-8, or holds an unpaired surrogate, with 400 malformed_json, and stores nothing', async () => {
    const before = (await user.get<{ items: unknown[] }>('/api/contacts?limit=200')).body.items.length;
    const latin1 = Buffer.concat([Buffer.from(`{"email":"${uniqueEmail('lat')}","name":"`), Buffer.from([0xe9, 0x74, 0xe9]), Buffer.from('"}')]);
    const res = await fetch(`${system.baseUrl}/api/contacts`, { method: 'POST', headers: { cookie: user.cookieHeader(), origin: system.baseUrl, 'content-type': 'application/json' }, body: latin1 });
    expect(res.status).to.equal(400);
    expect(((await res.json()) as ErrorBody).error.code).to.equal('malformed_json');
    for (const body of [`{"email":"${uniqueEmail('sur')}","name":"\\ud800"}`, `{"email":"${uniqueEmail('sur')}","name":"x\\udc00y"}`, `{"email":"${uniqueEmail('sur')}","\\ud800":"x","name":"n"}`]) {
      expectError(await user.request('POST', '/api/contacts', { body, headers: { 'content-type': 'application/json' } }), 400, 'malformed_json');
    }
    expect((await user.get<{ items: unknown[] }>('/api/contacts?limit=200')).body.items.length).to.equal(before);
    // A real pair (an emoji written as escapes) and non-Latin text are taken as they are.
    const ok = await user.request<{ name: string }>('POST', '/api/contacts', { body: `{"email":"${uniqueEmail('emoji')}","name":"\\ud83d\\ude00 Ёж"}`, headers: { 'content-type': 'application/json' } });
    expect(ok.status, ok.text).to.equal(201);
    expect(ok.body.name).to.equal('\u{1F600} Ёж');
  });

  it('refuses a compressed body with 415, whatever the encoding', async () => {
    const json = JSON.stringify({ email: uniqueEmail('gz'), name: 'Zipped' });
    for (const [encoding, body] of [['gzip', gzipSync(json)], ['br', Buffer.from(json)], ['deflate', deflateSync(json)]] as const) {
      const res = await fetch(`${system.baseUrl}/api/contacts`, { method: 'POST', headers: { cookie: user.cookieHeader(), origin: system.baseUrl, 'content-type': 'application/json', 'content-encoding': encoding }, body });
      expect(res.status, encoding).to.equal(415);
      expect(((await res.json()) as ErrorBody).error.code).to.equal('unsupported_media_type');
    }
  });

  it('reads media types, charsets and codings in any case, as HTTP defines them', async () => {
    const spellings: Array<Record<string, string>> = [
      { 'content-type': 'APPLICATION/JSON' },
      { 'content-type': 'Application/Json; Charset=UTF-8' },
      { 'content-type': 'application/json', 'content-encoding': 'Identity' },
      { 'content-type': 'application/vnd.api+JSON', 'content-encoding': 'IDENTITY' },
    ];
    for (const headers of spellings) {
      const email = uniqueEmail('case');
      const res = await fetch(`${system.baseUrl}/api/contacts`, { method: 'POST', headers: { cookie: user.cookieHeader(), origin: system.baseUrl, ...headers }, body: JSON.stringify({ email, name: 'Case' }) });
      expect(res.status, JSON.stringify(headers)).to.equal(201);
      expect(((await res.json()) as { email: string }).email).to.equal(email);
    }
  });

  it('names a __proto__ field as not accepted (400 validation_failed), not as malformed JSON', async () => {
    const error = expectError(await user.request('POST', '/api/contacts', { body: `{"email":"${uniqueEmail('p')}","name":"x","__proto__":{"admin":true}}`, headers: { 'content-type': 'application/json' } }), 400, 'validation_failed');
    expect(error.message).to.contain('__proto__');
  });

  it('answers an empty JSON request by what is missing, not as a CSRF refusal', async () => {
    const res = await fetch(`${system.baseUrl}/api/contacts`, { method: 'POST', headers: { cookie: user.cookieHeader(), origin: system.baseUrl, 'content-type': 'application/json' } });
    expect(res.status).to.equal(400);
    const body = (await res.json()) as ErrorBody;
    expect(body.error.code).to.equal('validation_failed');
    expect(body.error.details.map((d) => d.path)).to.deep.equal(['body']);
    expect(body.error.message).to.contain('JSON object');
  });

  it('explains a pattern refusal in words, without showing the regular expression', async () => {
    const error = expectError(await user.post('/api/contacts', { email: uniqueEmail('ctl'), name: 'a\u0007b' }), 400, 'validation_failed');
    expect(error.details.map((d) => d.path)).to.include('body.name');
    expect(JSON.stringify(error)).to.not.match(/\\u00|\^\[|pattern/);
  });

  it('answers an HTTP/1.1 request without Host (400) and an unknown Expect (417) with JSON errors', async () => {
    const { port } = new URL(system.baseUrl);
    const exchange = (request: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = net.connect(Number(port), '127.0.0.1', () => socket.write(request));
        let answer = '';
        socket.on('data', (chunk) => {
          answer += chunk.toString('utf8');
          if (/\r\n\r\n[\s\S]*\}\}$/.test(answer)) socket.end();
        });
        socket.on('end', () => resolve(answer));
        socket.on('error', reject);
        setTimeout(() => socket.end(), 3000).unref();
      });
    const bodyOf = (raw: string) => JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4).replace(/^[0-9a-f]+\r\n|\r\n0\r\n\r\n$/g, '')) as ErrorBody;
    const noHost = await exchange('GET /api/me HTTP/1.1\r\nConnection: close\r\n\r\n');
    expect(noHost).to.match(/^HTTP\/1\.1 400 /);
    expect(noHost).to.match(/content-type: application\/json/i);
    expect(bodyOf(noHost).error.code).to.equal('bad_request');
    const expectation = await exchange(`POST /api/contacts HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nExpect: foo\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n`);
    expect(expectation).to.match(/^HTTP\/1\.1 417 /);
    expect(bodyOf(expectation).error.code).to.equal('expectation_failed');
  });

  it('answers a body over the limit with 413 payload_too_large', async () => {
    const huge = JSON.stringify({ email: uniqueEmail('big'), name: 'Big', description_ai: 'x'.repeat(300 * 1024) });
    expectError(await user.request('POST', '/api/contacts', { body: huge, headers: { 'content-type': 'application/json' } }), 413, 'payload_too_large');
    const hugeAdmin = JSON.stringify({ is_subscription_active: true, pad: 'x'.repeat(300 * 1024) });
    expectError(await admin.request('PUT', `/admin/users/${encodeURIComponent(adminEmail)}/subscription`, { body: hugeAdmin, headers: { 'content-type': 'application/json' } }), 413, 'payload_too_large');
  });

  it('answers an invalid id with 400 validation_failed naming params.id, on every route with an id', async () => {
    for (const id of ['not-a-uuid', '123', '0190a3c4-0000-7000-8000-00000000000g', `${contactId}0`, `urn:uuid:${contactId}`, `URN:UUID:${contactId}`, '-'.repeat(36)]) {
      for (const [method, path] of [
        ['GET', `/api/contacts/${id}`],
        ['PATCH', `/api/contacts/${id}`],
        ['DELETE', `/api/contacts/${id}`],
        ['GET', `/api/contacts/${id}/messages`],
      ] as const) {
        const error = expectError(await user.request(method, path, method === 'PATCH' ? { json: { name: 'X' } } : {}), 400, 'validation_failed');
        expect(error.details.map((d) => d.path), `${method} ${path}`).to.include('params.id');
      }
    }
    const badUser = expectError(await admin.get(`/admin/audit?user_id=${encodeURIComponent(`urn:uuid:${contactId}`)}`), 400, 'validation_failed');
    expect(badUser.details.map((d) => d.path)).to.include('query.user_id');
    const badEmail = expectError(await admin.request('PUT', '/admin/users/not-an-email/subscription', { json: { is_subscription_active: true } }), 400, 'validation_failed');
    expect(badEmail.details.map((d) => d.path)).to.include('params.email');
  });

  it('answers an invalid cursor with 400 invalid_cursor on every list, also a cursor of another list', async () => {
    const messagesCursor = encodeCursor('messages', ['2024-01-01T00:00:00.000Z', contactId]);
    const contactsCursor = encodeCursor('contacts', [contactId]);
    const unnamed = Buffer.from(JSON.stringify([contactId])).toString('base64url');
    const cases: Array<[string, string]> = [
      ['/api/contacts', 'garbage!'],
      ['/api/contacts', Buffer.from('{"not":"an array"}').toString('base64url')],
      ['/api/contacts', messagesCursor],
      ['/api/contacts', unnamed],
      ['/api/contacts/ID/messages', 'garbage!'],
      ['/api/contacts/ID/messages', contactsCursor],
      ['/api/contacts/ID/messages', encodeCursor('messages', ['not a date', contactId])],
      ['/api/conversations', 'garbage!'],
      ['/api/conversations', contactsCursor],
      // Same key shape as a conversations cursor, but another list's.
      ['/api/conversations', messagesCursor],
      // Well-formed cursors with keys the database would refuse: never a 500.
      ['/api/contacts', encodeCursor('contacts', ['-'.repeat(36)])],
      ['/api/audit', encodeCursor('audit', ['9223372036854775808'])],
      ['/api/audit', encodeCursor('audit', ['99999999999999999999'])],
      ...['0000-01-01T00:00:00.000Z', '+275760-09-13T00:00:00.000Z', '2026-02-30T00:00:00.000Z', '2026-13-01T00:00:00.000Z', '2026-00-10T00:00:00.000Z', '2026-12-04T10:60:00.000Z', '2026-12-31T23:59:60.000Z', '1', 'Dec 4, 2026', '2026-12-04T10:00:00Z'].flatMap(
        (date): Array<[string, string]> => [
          ['/api/conversations', encodeCursor('conversations', [date, contactId])],
          ['/api/contacts/ID/messages', encodeCursor('messages', [date, contactId])],
        ],
      ),
    ];
    for (const [path, cursor] of cases) {
      const res = await user.get(`${path.replace('ID', contactId)}?cursor=${encodeURIComponent(cursor)}`);
      const error = expectError(res, 400, 'invalid_cursor');
      expect(error.details.map((d) => d.path)).to.include('query.cursor');
    }
    expectError(await user.get(`/api/contacts?cursor=${'a'.repeat(600)}`), 400, 'validation_failed');
  });

  it('answers bad query parameters with 400 validation_failed naming each', async () => {
    for (const [path, field] of [
      ['/api/contacts?limit=0', 'query.limit'],
      ['/api/contacts?limit=1e2', 'query.limit'],
      ['/api/contacts?limit=0x10', 'query.limit'],
      ['/api/contacts?limit=%205', 'query.limit'],
      ['/api/audit?limit=10.0', 'query.limit'],
      ['/api/contacts?limit=201', 'query.limit'],
      ['/api/contacts?include_deleted=perhaps', 'query.include_deleted'],
      ['/api/contacts?is_active=2', 'query.is_active'],
      ['/api/conversations?limit=-1', 'query.limit'],
      [`/api/contacts/${contactId}/messages?limit=x`, 'query.limit'],
      [`/api/contacts/${contactId}/messages?sort=asc`, 'query.sort'],
    ] as const) {
      const error = expectError(await user.get(path), 400, 'validation_failed');
      expect(error.details.map((d) => d.path), path).to.include(field);
    }
  });

  it('shows no internal detail in any error', async () => {
    const res = await user.request('POST', '/api/contacts', { body: '{"email": "a@b.c", "name": "N", "description_ai": "\\ud800"', headers: { 'content-type': 'application/json' } });
    expectError(res, 400, 'malformed_json');
    expect(res.text).to.not.match(/at .*\.ts:\d+|node_modules|SELECT|stack/i);
  });
});
