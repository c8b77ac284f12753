import { expect } from 'chai';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { createAccessTokens, type AccessTokens } from '../../src/gmail/access-tokens';
import { createOAuthClient } from '../../src/gmail/oauth-client';
import { GmailNotConnectedError } from '../../src/gmail/errors';
import { createLogger } from '../../src/observability/logger';
import { HttpClient, signIn, uniqueEmail } from '../support/http-client';
import { startTestSystem, type TestSystem } from '../support/system';
import { deliverRaw, sentItems, setFaults, waitForIdle } from '../support/mail-loop';
import { koi8rMail } from '../support/mail-fixtures';
import { newId } from '../../src/db/ids';
import { sealColumns } from '../../src/db/encrypted-columns';

interface Me {
  id: string;
  gmail: { status: string };
}

/**
 * Access tokens of the Gmail grant, through the sandbox's real token endpoint: a refresh is
 * single-flight within a process and across processes, a slower refresh never replaces a newer
 * token, and Google's invalid_grant puts the user (and only that user) into re-consent.
 */
describe('Gmail access tokens', function () {
  this.timeout(60000);
  let system: TestSystem;
  let redis: Redis;
  let refreshLines: string[];

  /** A token provider as another process would build it: its own Redis connection and logger. */
  function otherProcessTokens(): AccessTokens {
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        const line = chunk.toString('utf8');
        if (line.includes('gmail access token refreshed')) refreshLines.push(line);
        done();
      },
    });
    return createAccessTokens({
      connections: system.container.connections,
      newOAuthClient: () => createOAuthClient(system.container.config),
      redis,
      keyPrefix: system.container.config.redisPrefix,
      logger: createLogger({ level: 'info', pretty: false, destination: sink }),
    });
  }

  async function expireStoredToken(userId: string, token = 'ya29.expired'): Promise<void> {
    await system.container.db('gmail_connections').where({ user_id: userId }).update({ access_token_expires_at: new Date(Date.now() - 1000) });
    await system.container.connections.saveTokens(userId, { accessToken: token, expiresAt: new Date(Date.now() - 1000) });
  }

  async function signedIn(local: string): Promise<{ client: HttpClient; email: string; me: Me }> {
    const email = uniqueEmail(local);
    const client = await signIn(system.baseUrl, email);
    const me = (await client.get<Me>('/api/me')).body;
    return { client, email, me };
  }

  before(async () => {
    system = await startTestSystem();
    redis = new Redis(system.container.config.redisUrl);
  });
  beforeEach(() => {
    refreshLines = [];
  });
  after(async () => {
    redis.disconnect();
    await system.close();
  });

  it('refreshes once for many concurrent callers in several processes, and all get the new token', async () => {
    const { me } = await signedIn('single');
    await expireStoredToken(me.id);
    const processes = [otherProcessTokens(), otherProcessTokens(), otherProcessTokens()];
    const tokens = await Promise.all(processes.flatMap((p) => [p.get(me.id), p.get(me.id), p.get(me.id)]));
    expect(new Set(tokens.map((t) => t.token)).size).to.equal(1);
    expect(tokens[0]!.token).to.not.equal('ya29.expired');
    expect(refreshLines, 'one refresh at the token endpoint').to.have.length(1);
    const grant = await system.container.connections.readGrant(me.id);
    expect(grant!.accessToken).to.equal(tokens[0]!.token);
  });

  it('never replaces a stored token with one that expires earlier', async () => {
    const { me } = await signedIn('newer');
    const later = new Date(Date.now() + 3600_000);
    await system.container.connections.saveTokens(me.id, { accessToken: 'ya29.newer', expiresAt: later });
    const stored = await system.container.connections.saveRefreshedTokens(me.id, { accessToken: 'ya29.older', expiresAt: new Date(Date.now() + 1800_000) }, 'ya29.something-else');
    expect(stored).to.equal(false);
    expect((await system.container.connections.readGrant(me.id))!.accessToken).to.equal('ya29.newer');
    // The token a refresh set out to replace (Gmail refused it) is replaced whatever its recorded expiry.
    const replaced = await system.container.connections.saveRefreshedTokens(me.id, { accessToken: 'ya29.fresh', expiresAt: new Date(Date.now() + 1800_000) }, 'ya29.newer');
    expect(replaced).to.equal(true);
    expect((await system.container.connections.readGrant(me.id))!.accessToken).to.equal('ya29.fresh');
  });

  it('gives a token Gmail refused back never: it refreshes even before the recorded expiry', async () => {
    const { me } = await signedIn('refused');
    const tokens = otherProcessTokens();
    const first = await tokens.get(me.id);
    const second = await tokens.get(me.id, first.token);
    expect(second.token).to.not.equal(first.token);
    expect(refreshLines).to.have.length(1);
  });

  it('on invalid_grant marks only that user for re-consent, fails their reply for good, and answers after they sign in again', async () => {
    const victim = await signedIn('revoked');
    const bystander = await signedIn('bystander');
    const contact = (await victim.client.post<{ id: string; email: string }>('/api/contacts', { email: uniqueEmail('c'), name: 'C', description_ai: 'Be brief.', is_active: true })).body;

    // Google revokes the grant; the stored access token has expired, so the next Gmail call must refresh.
    await setFaults(system.baseUrl, victim.email, { revoke_grant: true });
    await expireStoredToken(victim.me.id);
    await system.container.db('gmail_connections').where({ user_id: victim.me.id }).update({ history_id: null });
    await system.container.queues.enqueueMailboxSync({ userId: victim.me.id, trigger: 'manual' });
    await waitForIdle(system);
    expect((await victim.client.get<Me>('/api/me')).body.gmail.status).to.equal('needs_reconsent');
    expect((await bystander.client.get<Me>('/api/me')).body.gmail.status).to.equal('ok');
    let caught: unknown;
    await otherProcessTokens().get(victim.me.id).catch((err: unknown) => (caught = err));
    expect(caught).to.be.instanceOf(GmailNotConnectedError);
    const failed = await system.container.queues.byName['mailbox-sync'].getJobs(['failed']);
    const victimJob = failed.find((j) => (j.data as { userId: string }).userId === victim.me.id);
    expect(victimJob, 'the sync job failed').to.not.equal(undefined);
    expect(victimJob!.attemptsMade, 'without retries').to.equal(1);

    // A reply owed meanwhile fails with the reason instead of retrying forever.
    const replyId = await recordPendingReply(victim.me.id, contact.id);
    await system.container.queues.enqueueReply({ replyId });
    await waitForIdle(system);
    const row = await system.container.db('replies').where({ id: replyId }).first();
    expect(row).to.include({ status: 'failed', failure_reason: 'gmail_needs_reconsent' });
    const audit = await system.container.db('audit_log').where({ entity_id: replyId, action: 'reply.failed' }).first();
    expect(audit?.metadata).to.deep.equal({ reason: 'gmail_needs_reconsent' });

    // Signing in again asks for consent (the stored refresh token is dead), restores the connection
    // and sends the reply that failed.
    const first = await new HttpClient(system.baseUrl).get(`/auth/google?login_hint=${encodeURIComponent(victim.email)}`);
    expect(new URL(first.headers.get('location')!).searchParams.get('prompt')).to.equal('consent');
    const again = await signIn(system.baseUrl, victim.email);
    expect((await again.get<Me>('/api/me')).body.gmail.status).to.equal('ok');
    await waitForIdle(system);
    expect((await system.container.db('replies').where({ id: replyId }).first()).status).to.equal('sent');
    expect(await sentItems(system.baseUrl, victim.email)).to.have.length(1);
  });

  /** A received mail with a pending reply, as the sync records it (delivered while the worker cannot reach Gmail). */
  async function recordPendingReply(userId: string, contactId: string): Promise<string> {
    const { db } = system.container;
    const email = (await db('users').where({ id: userId }).first()).email as string;
    const contactEmail = (await system.container.services.contacts.get(userId, contactId)).email;
    const delivered = await deliverRaw(system.baseUrl, email, koi8rMail(contactEmail, email).raw);
    const messageId = newId();
    await db('message_history').insert({
      id: messageId,
      user_id: userId,
      contact_id: contactId,
      message_direction: 'received',
      ...sealColumns(system.container.cipher, 'message_history', messageId, { message_text: 'Когда будет доставка?', subject: 'Доставка' }),
      timestamp: new Date(),
      gmail_message_id: delivered.id,
      gmail_thread_id: delivered.thread_id,
      rfc822_message_id: delivered.message_id,
    });
    const replyId = newId();
    await db('replies').insert({ id: replyId, user_id: userId, contact_id: contactId, source_message_id: messageId, gmail_thread_id: delivered.thread_id, status: 'pending' });
    return replyId;
  }
});
