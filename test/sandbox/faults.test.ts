import { expect } from 'chai';
import { startTestSystem, type TestSystem } from '../support/system';
import { controlPost, deliver, freshEmail, grant, header, mailboxUrl, rfc822, sentItems, setFaults, statusOf, type Grant } from './support';

/** The sandbox fault switches (SPEC "Sandbox control"), seen through googleapis as production sees them. */
describe('sandbox faults (googleapis)', () => {
  let system: TestSystem;

  before(async () => {
    system = await startTestSystem({ worker: false });
  });
  after(async () => {
    await system.close();
  });

  async function mailbox(local = 'fault'): Promise<Grant & { email: string }> {
    const email = freshEmail(local);
    return { email, ...(await grant(system, email)) };
  }

  async function currentFaults(email: string): Promise<Record<string, unknown>> {
    return (await fetch(mailboxUrl(system, email, 'faults'))).json() as Promise<Record<string, unknown>>;
  }

  describe('rate_limit_next', () => {
    it('answers the next n calls with 429 rateLimitExceeded and Retry-After, then succeeds', async () => {
      const { email, gmail } = await mailbox();
      const set = await setFaults(system, email, { rate_limit_next: 2 });
      expect(set.rate_limit_next).to.equal(2);

      for (let i = 0; i < 2; i += 1) {
        const res = await statusOf(gmail.users.getProfile({ userId: 'me' }, { retry: false }));
        expect(res.status, `call ${i + 1}`).to.equal(429);
        const error = (res.data as { error: { status: string; errors: Array<{ reason: string; domain: string }> } }).error;
        expect(error.status).to.equal('RESOURCE_EXHAUSTED');
        expect(error.errors[0]!.reason).to.equal('rateLimitExceeded');
        expect(error.errors[0]!.domain).to.equal('usageLimits');
        expect(Number(res.headers['retry-after'])).to.be.greaterThan(0);
      }
      const ok = await gmail.users.getProfile({ userId: 'me' }, { retry: false });
      expect(ok.data.emailAddress).to.equal(email);
      expect((await currentFaults(email)).rate_limit_next).to.equal(0);
    });

    it('is absorbed by the client\'s default retry of a GET', async () => {
      const { email, gmail } = await mailbox();
      await setFaults(system, email, { rate_limit_next: 2 });
      const { data } = await gmail.users.messages.list({ userId: 'me' }, { retryConfig: { retry: 3, retryDelay: 10, noResponseRetries: 0 } });
      expect(data.resultSizeEstimate).to.equal(0);
      expect((await currentFaults(email)).rate_limit_next).to.equal(0);
    });

    it('applies to messages.send as well, and the refused send stores nothing', async () => {
      const { email, gmail } = await mailbox();
      await setFaults(system, email, { rate_limit_next: 1 });
      const raw = rfc822({ To: 'bob@example.org', Subject: 'limited' }, 'x');
      const res = await statusOf(gmail.users.messages.send({ userId: 'me', requestBody: { raw } }, { retry: false }));
      expect(res.status).to.equal(429);
      expect(await sentItems(system, email)).to.have.length(0);
      await gmail.users.messages.send({ userId: 'me', requestBody: { raw } }, { retry: false });
      expect(await sentItems(system, email)).to.have.length(1);
    });
  });

  describe('fail_next_send', () => {
    it('"before": the send answers 500 and nothing is stored or recorded; the next send goes through', async () => {
      const { email, gmail } = await mailbox();
      const incoming = await deliver(system, email, { from: 'bob@example.org', subject: 'Question', text: '?' });
      const start = (await gmail.users.getProfile({ userId: 'me' })).data.historyId!;
      await setFaults(system, email, { fail_next_send: 'before' });

      const raw = rfc822({ To: 'bob@example.org', Subject: 'Re: Question', 'In-Reply-To': incoming.message_id, 'X-Assistant-Reply-Id': 'r-before' }, 'answer');
      const res = await statusOf(gmail.users.messages.send({ userId: 'me', requestBody: { raw, threadId: incoming.thread_id } }, { retry: false }));
      expect(res.status).to.equal(500);
      expect((res.data as { error: { errors: Array<{ reason: string }> } }).error.errors[0]!.reason).to.equal('backendError');

      expect(await sentItems(system, email)).to.have.length(0);
      expect((await gmail.users.messages.list({ userId: 'me', labelIds: ['SENT'] })).data.messages).to.equal(undefined);
      expect((await gmail.users.history.list({ userId: 'me', startHistoryId: start })).data.history).to.equal(undefined);
      const thread = await gmail.users.threads.get({ userId: 'me', id: incoming.thread_id, format: 'minimal' });
      expect(thread.data.messages).to.have.length(1);
      expect((await currentFaults(email)).fail_next_send).to.equal(null);

      const { data } = await gmail.users.messages.send({ userId: 'me', requestBody: { raw, threadId: incoming.thread_id } }, { retry: false });
      expect(data.threadId).to.equal(incoming.thread_id);
      expect(await sentItems(system, email)).to.have.length(1);
    });

    it('"after": the send answers 500 but the message is sent and in the thread, findable by its own header', async () => {
      const { email, gmail } = await mailbox();
      const incoming = await deliver(system, email, { from: 'bob@example.org', subject: 'Question two', text: '?' });
      await setFaults(system, email, { fail_next_send: 'after' });

      const raw = rfc822({ To: 'bob@example.org', Subject: 'Re: Question two', 'In-Reply-To': incoming.message_id, 'X-Assistant-Reply-Id': 'r-after' }, 'answer');
      const res = await statusOf(gmail.users.messages.send({ userId: 'me', requestBody: { raw, threadId: incoming.thread_id } }, { retry: false }));
      expect(res.status).to.equal(500);

      const items = await sentItems(system, email);
      expect(items).to.have.length(1);
      expect(items[0]!.thread_id).to.equal(incoming.thread_id);
      expect(items[0]!.headers['x-assistant-reply-id']).to.equal('r-after');

      // what the product does to recover: look for its reply id in the thread
      const thread = await gmail.users.threads.get({ userId: 'me', id: incoming.thread_id, format: 'metadata', metadataHeaders: ['X-Assistant-Reply-Id'] });
      const mine = thread.data.messages!.filter((m) => header(m.payload, 'X-Assistant-Reply-Id') === 'r-after');
      expect(mine.map((m) => m.id)).to.deep.equal([items[0]!.id]);
      expect(mine[0]!.labelIds).to.include('SENT');

      // the fault was used up: the next send answers 200
      const next = await gmail.users.messages.send({ userId: 'me', requestBody: { raw: rfc822({ To: 'bob@example.org', Subject: 'later' }, 'x') } }, { retry: false });
      expect(next.status).to.equal(200);
    });

    it('is not used up by a send that Gmail refuses as invalid', async () => {
      const { email, gmail } = await mailbox();
      await setFaults(system, email, { fail_next_send: 'before' });
      const invalid = await statusOf(gmail.users.messages.send({ userId: 'me', requestBody: { raw: rfc822({ Subject: 'no recipient' }, 'x') } }, { retry: false }));
      expect(invalid.status).to.equal(400);
      expect((await currentFaults(email)).fail_next_send).to.equal('before');
    });
  });

  describe('setting and clearing', () => {
    it('{} clears every fault', async () => {
      const { email, gmail } = await mailbox();
      await setFaults(system, email, { rate_limit_next: 5, fail_next_send: 'after', drop_pushes: true, duplicate_pushes: 3, expire_history: true, watch_conflict: true });
      const cleared = await setFaults(system, email, {});
      expect(cleared).to.deep.equal({ duplicate_pushes: 1, drop_pushes: false, shuffle_pushes: false, expire_history: false, rate_limit_next: 0, fail_next_send: null, watch_conflict: false });
      expect(await currentFaults(email)).to.deep.equal(cleared);
      const start = (await gmail.users.getProfile({ userId: 'me' }, { retry: false })).data.historyId!;
      expect((await gmail.users.history.list({ userId: 'me', startHistoryId: start }, { retry: false })).status).to.equal(200);
      const sent = await gmail.users.messages.send({ userId: 'me', requestBody: { raw: rfc822({ To: 'bob@example.org', Subject: 's' }, 'x') } }, { retry: false });
      expect(sent.status).to.equal(200);
    });

    it('a new fault set replaces the previous one', async () => {
      const { email, gmail } = await mailbox();
      await setFaults(system, email, { rate_limit_next: 3 });
      await setFaults(system, email, { drop_pushes: true });
      const faults = await currentFaults(email);
      expect(faults.rate_limit_next).to.equal(0);
      expect(faults.drop_pushes).to.equal(true);
      expect((await gmail.users.getProfile({ userId: 'me' }, { retry: false })).status).to.equal(200);
    });

    const invalid: Array<[string, unknown]> = [
      ['a negative rate_limit_next', { rate_limit_next: -1 }],
      ['a fractional rate_limit_next', { rate_limit_next: 1.5 }],
      ['an unknown fail_next_send', { fail_next_send: 'sometimes' }],
      ['duplicate_pushes of 0', { duplicate_pushes: 0 }],
      ['a non-boolean drop_pushes', { drop_pushes: 'yes' }],
      ['an unknown fault', { explode: true }],
      ['an array', [1, 2]],
    ];
    for (const [what, body] of invalid) {
      it(`refuses ${what} with a 400 JSON error and keeps the current faults`, async () => {
        const email = freshEmail('badfault');
        await setFaults(system, email, { rate_limit_next: 1 });
        const res = await controlPost<{ error: { code: string; message: string; details: Array<{ path: string; message: string }> } }>(system, email, 'faults', body);
        expect(res.status).to.equal(400);
        expect(res.body.error.code).to.equal('validation_failed');
        expect(res.body.error.message).to.be.a('string');
        expect(res.body.error.details).to.be.an('array').that.is.not.empty;
        expect((await currentFaults(email)).rate_limit_next).to.equal(1);
      });
    }

    it('refuses a body that is not JSON with a 400 JSON error', async () => {
      const res = await controlPost<{ error: { code: string } }>(system, freshEmail('badjson'), 'faults', '{"rate_limit_next": ');
      expect(res.status).to.equal(400);
      expect(res.body.error.code).to.equal('invalid_json');
    });

    it('refuses a mailbox that is not an email address', async () => {
      const res = await controlPost<{ error: { code: string } }>(system, 'not-an-address', 'faults', {});
      expect(res.status).to.equal(400);
      expect(res.body.error.code).to.equal('invalid_mailbox');
    });
  });
});
