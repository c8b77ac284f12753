import { expect } from 'chai';
import { Client } from 'pg';
import { signIn, uniqueEmail, type HttpClient, type HttpResponse } from '../support/http-client';
import { startTestSystem, type TestSystem } from '../support/system';
import { deliverRaw, waitForHistory, waitForIdle } from '../support/mail-loop';
import { testDatabaseUrl } from '../support/config';

const CRLF = '\r\n';

/**
 * A whole flow (sign-in, a contact, a mail in, the assistant's reply, reads of every list), then
 * everything the system kept and said is searched for what it must never show: no plaintext of
 * the secret columns in the database, no ciphertext, blind index or token in any API answer, and
 * no token, cookie, Authorization header, address or message text in any log line.
 */
describe('what the system keeps and shows after a full flow', function () {
  this.timeout(60000);
  let system: TestSystem;
  let client: HttpClient;
  let pg: Client;
  const responses: HttpResponse[] = [];
  const user = uniqueEmail('exposure');
  const contactEmail = uniqueEmail('exposed.contact');
  const secrets = {
    contactName: 'Zebulon Quixote-Marmaduke',
    description: 'Instruction-7f3c: negotiate firmly about the lighthouse lease',
    subject: 'Subject-a91e lighthouse lease renewal',
    text: 'Body-52d0: the lighthouse keeper wants to renew before winter',
  };
  let tokens: { access: string; refresh: string };
  let pushToken: string;
  let contactId: string;

  async function record<T>(res: Promise<HttpResponse<T>>): Promise<HttpResponse<T>> {
    const answer = await res;
    responses.push(answer as HttpResponse);
    return answer;
  }

  before(async () => {
    system = await startTestSystem();
    pg = new Client({ connectionString: testDatabaseUrl() });
    await pg.connect();
    client = await signIn(system.baseUrl, user);
    const me = (await record(client.get<{ id: string }>('/api/me'))).body;
    const contact = await record(client.post<{ id: string }>('/api/contacts', { email: contactEmail, name: secrets.contactName, description_ai: secrets.description, is_active: true }));
    contactId = contact.body.id;
    const raw = Buffer.from(
      [`From: ${secrets.contactName} <${contactEmail}>`, `To: ${user}`, `Subject: ${secrets.subject}`, `Message-ID: <exposure-${Date.now()}@contact.example>`, 'Content-Type: text/plain; charset=utf-8', '', secrets.text, ''].join(CRLF),
    );
    await deliverRaw(system.baseUrl, user, raw);
    await waitForHistory(client, contactId, { received: 1, sent: 1 });
    await waitForIdle(system);
    // A push with a bearer token of our own making, so we know one Authorization header the logs saw.
    pushToken = system.sandbox!.signToken({
      iss: 'https://accounts.google.com',
      aud: system.container.config.google.pushAudience,
      email: system.container.config.google.pushServiceAccount,
      email_verified: true,
      sub: '1',
      iat: Math.floor(Date.now() / 1000),
      exp: Math.floor(Date.now() / 1000) + 600,
    });
    const envelope = { message: { data: Buffer.from(JSON.stringify({ emailAddress: user, historyId: 1 })).toString('base64'), messageId: '1' }, subscription: 's' };
    await fetch(`${system.baseUrl}/webhooks/gmail`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${pushToken}` }, body: JSON.stringify(envelope) });
    await waitForIdle(system);
    for (const path of ['/api/me', '/api/contacts', `/api/contacts/${contactId}`, `/api/contacts/${contactId}/messages`, '/api/conversations', '/api/contacts?include_deleted=true']) {
      await record(client.get(path));
    }
    const grant = (await system.container.connections.readGrant(me.id))!;
    tokens = { access: grant.accessToken!, refresh: grant.refreshToken! };
  });
  after(async () => {
    await pg.end();
    await system.close();
  });

  it('holds no plaintext of tokens, addresses, names, instructions, subjects or texts in the database', async () => {
    const tables = ['contacts', 'message_history', 'gmail_connections', 'replies', 'active_conversations', 'audit_log'];
    let dump = '';
    for (const table of tables) dump += `${JSON.stringify((await pg.query(`SELECT * FROM ${table}`)).rows)}\n`;
    const reply = (await client.get<{ items: Array<{ message_direction: string; message_text: string }> }>(`/api/contacts/${contactId}/messages`)).body.items.find((m) => m.message_direction === 'sent')!;
    for (const [what, value] of Object.entries({ ...secrets, contactEmail, access: tokens.access, refresh: tokens.refresh, reply: reply.message_text.slice(0, 40) })) {
      expect(dump.includes(value), `${what} in clear in the database`).to.equal(false);
    }
  });

  it('stores the secret columns as versioned AES-GCM values bound to their row', async () => {
    const contact = (await pg.query('SELECT * FROM contacts WHERE id = $1', [contactId])).rows[0];
    for (const column of ['email', 'name', 'description_ai']) expect(contact[column], column).to.match(/^t1\.[A-Za-z0-9_-]{40,}$/);
    expect(contact.email_hash).to.match(/^[0-9a-f]{64}$|^[A-Za-z0-9_-]{43}$/);
  });

  it('answers with no ciphertext, blind index or token, and no field it should not have', async () => {
    const hash = (await pg.query('SELECT email_hash FROM contacts WHERE id = $1', [contactId])).rows[0].email_hash as string;
    const all = responses.map((r) => r.text).join('\n');
    expect(all).to.not.match(/"t1\.[A-Za-z0-9_-]{20,}"/);
    for (const [what, value] of Object.entries({ hash, access: tokens.access, refresh: tokens.refresh })) expect(all.includes(value), what).to.equal(false);
    expect(all).to.not.match(/email_hash|refresh_token|access_token|user_id|rfc822/);
  });

  it('logs no token, cookie, Authorization header, address or message content, over the whole flow', async () => {
    const logs = system.logLines.join('');
    const sid = /(?:^|; )sid=([^;]+)/.exec(client.cookieHeader())![1]!;
    const forbidden: Record<string, string> = {
      user,
      contactEmail,
      ...secrets,
      access: tokens.access,
      refresh: tokens.refresh,
      sessionId: sid,
      pushToken: pushToken.slice(0, 40),
    };
    for (const [what, value] of Object.entries(forbidden)) expect(logs.includes(value), `${what} in the logs`).to.equal(false);
    expect(logs).to.not.match(/authorization"\s*:\s*"Bearer/i);
    expect(logs).to.contain('reply sent');
  });
});
