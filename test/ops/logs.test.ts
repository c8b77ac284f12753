import { expect } from 'chai';
import Koa from 'koa';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { requestContext } from '../../src/http/middleware/request-context';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/observability/logger';
import { currentLogContext, runWithLogContext } from '../../src/observability/log-context';
import { HttpClient, signIn, uniqueEmail } from '../support/http-client';
import { waitForHistory } from '../support/mail-loop';
import { startTestSystem, type TestSystem } from '../support/system';

interface LogLine {
  msg: string;
  level: number;
  requestId?: string;
  jobId?: string;
  queue?: string;
  route?: string;
  [key: string]: unknown;
}

function sink(): { lines: string[]; stream: Writable } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return { lines, stream };
}

describe('structured logs', () => {
  describe('the logger', () => {
    it('writes JSON lines at the configured level and above only', () => {
      const out = sink();
      const logger = createLogger({ level: 'warn', pretty: false, destination: out.stream });
      logger.info({ n: 1 }, 'below the level');
      logger.warn({ n: 2 }, 'at the level');
      expect(out.lines).to.have.length(1);
      const line = JSON.parse(out.lines[0]!) as LogLine;
      expect(line).to.include({ msg: 'at the level', n: 2, level: 40 });
      expect(line.time).to.be.a('string');
    });

    it('puts the request or job id of the work in progress on every line, once', () => {
      const out = sink();
      const logger = createLogger({ level: 'info', pretty: false, destination: out.stream });
      runWithLogContext({ jobId: 'job-7', queue: 'reply', requestId: 'req-12345678' }, () => logger.child({ component: 'x' }).info('inside'));
      logger.info('outside');
      const [inside, outside] = out.lines;
      expect(JSON.parse(inside!)).to.include({ jobId: 'job-7', queue: 'reply', requestId: 'req-12345678', component: 'x' });
      expect(inside!.match(/"requestId"/g)).to.have.length(1);
      expect(JSON.parse(outside!)).to.not.have.property('requestId');
    });

    it("never lets one line's fields reach the next line (of the same context or outside any)", () => {
      const out = sink();
      const logger = createLogger({ level: 'info', pretty: false, destination: out.stream });
      const context = { requestId: 'req-same-context' };
      runWithLogContext(context, () => {
        logger.info({ userId: 'u-1' }, 'first');
        logger.info('second');
      });
      logger.info({ replyId: 'r-1' }, 'third');
      logger.info('fourth');
      const [, second, , fourth] = out.lines.map((l) => JSON.parse(l) as LogLine);
      expect(second).to.not.have.property('userId');
      expect(second!.requestId).to.equal('req-same-context');
      expect(fourth).to.not.have.property('replyId');
      expect(context).to.deep.equal({ requestId: 'req-same-context' });
    });

    it('keeps each context through overlapping async runs, until each has settled, and none after', async () => {
      const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
      const seen: Array<string | undefined> = [];
      const longRun = runWithLogContext({ requestId: 'req-long-run' }, async () => {
        await pause(30);
        seen.push(currentLogContext()?.requestId);
        await pause(5);
        seen.push(currentLogContext()?.requestId);
      });
      await runWithLogContext({ requestId: 'req-short-run' }, async () => {
        await pause(1);
        seen.push(currentLogContext()?.requestId);
      });
      // The short run has ended while the long one goes on: the long one keeps its context.
      await longRun;
      expect(seen).to.deep.equal(['req-short-run', 'req-long-run', 'req-long-run']);
      const failed = runWithLogContext({ requestId: 'req-failing' }, async () => {
        await pause(1);
        throw new Error('job failed');
      });
      await failed.catch(() => undefined);
      expect(() => runWithLogContext({ requestId: 'req-throwing' }, () => { throw new Error('sync'); })).to.throw('sync');
      await pause(1);
      expect(currentLogContext(), 'outside every run').to.equal(undefined);
      // A new run after the storage was switched off gets its context again.
      expect(runWithLogContext({ jobId: 'job-after' }, () => currentLogContext()?.jobId)).to.equal('job-after');
    });

    it("redacts by name what a route adds to its request's line, which skips pino's path redaction", async () => {
      const out = sink();
      const logger = createLogger({ level: 'info', pretty: false, destination: out.stream });
      const app = new Koa();
      app.use(requestContext(logger));
      app.use((ctx) => {
        ctx.state.logFields = { outcome: 'queued', email: 'someone@example.com', token: 'secret-token-value', subject: 'Private matter' };
        ctx.body = { ok: true };
      });
      const server = app.listen(0, '127.0.0.1');
      await once(server, 'listening');
      try {
        const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/x`, { headers: { 'x-request-id': 'req-line-check' } });
        expect(res.status).to.equal(200);
      } finally {
        server.close();
      }
      const line = JSON.parse(out.lines.find((l) => l.includes('"msg":"request"'))!) as LogLine;
      expect(line).to.include({ requestId: 'req-line-check', outcome: 'queued', email: '[redacted]', token: '[redacted]', subject: '[redacted]', status: 200 });
      expect(out.lines.join('')).to.not.contain('someone@example.com').and.not.contain('secret-token-value').and.not.contain('Private matter');
    });

    it('writes one human-readable line per entry with LOG_PRETTY', () => {
      const out = sink();
      const logger = createLogger({ level: 'info', pretty: true, destination: out.stream });
      runWithLogContext({ requestId: 'req-abcdefgh' }, () => logger.info({ status: 204 }, 'request'));
      const text = out.lines.join('');
      expect(() => JSON.parse(text)).to.throw();
      expect(text).to.match(/INFO.*request/);
      expect(text).to.contain('req-abcdefgh');
      expect(text.trim().split('\n')).to.have.length(1);
    });

    it('redacts tokens, addresses and content that a caller passes by mistake', () => {
      const out = sink();
      const logger = createLogger({ level: 'info', pretty: false, destination: out.stream });
      logger.info({ email: 'someone@example.com', token: 'ya29.secret', nested: { text: 'Hello there', refresh_token: '1//x' } }, 'careless');
      expect(out.lines[0]).to.not.match(/someone@example\.com|ya29\.secret|Hello there|1\/\/x/);
    });
  });

  describe('a push followed through web and worker', function () {
    this.timeout(60_000);
    let system: TestSystem;

    before(async () => {
      system = await startTestSystem();
    });
    after(async () => {
      await system.close();
    });

    it('puts the request id on every line written while a request is handled, deep lines of a sign-in included', async () => {
      const from = system.logLines.length;
      const owner = uniqueEmail('ids');
      const client = await signIn(system.baseUrl, owner);
      const created = await client.post<{ id: string }>('/api/contacts', { email: uniqueEmail('ids-contact'), name: 'Ids', description_ai: 'Be brief.' });
      expect(created.status, created.text).to.equal(201);
      expect((await client.get(`/api/contacts/${created.body.id}`)).status).to.equal(200);
      expect((await client.get('/api/contacts?limit=5')).status).to.equal(200);
      expect((await client.patch(`/api/contacts/${created.body.id}`, { name: 'Ids 2' })).status).to.equal(200);
      expect((await client.get('/api/contacts/not-an-id')).status).to.equal(400);
      const refused = await new HttpClient(system.baseUrl).request('POST', '/webhooks/gmail', { json: { message: { data: 'e30=' } }, headers: { authorization: 'Bearer not.a.token' } });
      expect(refused.status).to.equal(401);
      expect((await client.delete('/api/me')).status).to.equal(204);

      const lines = system.logLines.slice(from).map((l) => JSON.parse(l) as LogLine);
      const requestLines = lines.filter((l) => l.msg === 'request');
      expect(requestLines.length).to.be.greaterThan(8);
      // Jobs (the sign-in's sync) carry their job id; every other line belongs to a request.
      const orphans = lines.filter((l) => typeof l.requestId !== 'string' && typeof l.jobId !== 'string');
      expect(orphans.map((l) => l.msg), 'lines with neither a request id nor a job id').to.deep.equal([]);
      const callback = requestLines.find((l) => l.route === '/auth/google/callback');
      const watchStarted = lines.find((l) => l.msg === 'gmail watch started');
      expect(watchStarted, 'written deep inside the sign-in').to.exist;
      expect(watchStarted!.requestId).to.equal(callback!.requestId);
      expect(lines.find((l) => l.msg === 'push refused')!.requestId).to.equal(requestLines.find((l) => l.route === '/webhooks/gmail')!.requestId);
      expect(lines.find((l) => l.msg === 'account deleted')!.requestId).to.equal(requestLines.find((l) => l.route === '/api/me' && l.method === 'DELETE')!.requestId);
    });

    it("carries the webhook's request id onto the sync job's lines and the reply job's lines", async () => {
      const owner = uniqueEmail('logs');
      const client = await signIn(system.baseUrl, owner);
      const contactEmail = uniqueEmail('writer');
      const contact = await client.post<{ id: string }>('/api/contacts', { email: contactEmail, name: 'Writer', description_ai: 'Answer briefly.', is_active: true });
      expect(contact.status, contact.text).to.equal(201);
      const delivered = await new HttpClient(system.baseUrl).post(`/sandbox/gmail/mailboxes/${encodeURIComponent(owner)}/incoming`, {
        from: `Writer <${contactEmail}>`,
        subject: 'Delivery date',
        text: 'When does the parcel arrive?',
      });
      expect(delivered.status, delivered.text).to.be.oneOf([200, 201]);
      await waitForHistory(client, contact.body.id, { received: 1, sent: 1 });
      // The reply job logs its completion just after the history shows the reply.
      const lines = (): LogLine[] => system.logLines.map((l) => JSON.parse(l) as LogLine);
      const deadline = Date.now() + 5000;
      while (!lines().some((l) => l.queue === 'reply' && l.msg === 'job completed') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));

      const all = lines();
      const push = all.find((l) => l.msg === 'request' && l.route === '/webhooks/gmail' && l.outcome === 'queued');
      expect(push, 'the webhook request line, with the push outcome').to.include({ status: 204, method: 'POST' });
      const requestId = push!.requestId!;
      expect(requestId).to.be.a('string');
      expect(all.filter((l) => l.requestId === requestId && l.route === '/webhooks/gmail'), 'one line per push').to.have.length(1);

      const caused = all.filter((l) => l.requestId === requestId);
      const syncLines = caused.filter((l) => l.queue === 'mailbox-sync');
      const replyLines = caused.filter((l) => l.queue === 'reply');
      expect(syncLines.map((l) => l.msg), 'sync job lines').to.include('job completed');
      expect(replyLines.map((l) => l.msg), 'reply job lines').to.include.members(['reply sent', 'job completed']);
      for (const line of [...syncLines, ...replyLines]) expect(line.jobId, `${line.msg} carries its job id`).to.be.a('string');
      // The service's own line (written deep inside the job) and the worker's line name the same job.
      const replyJobIds = new Set(replyLines.map((l) => l.jobId));
      expect(replyJobIds.size).to.equal(1);

      // No address or content of the mail on any line.
      const text = system.logLines.join('');
      expect(text).to.not.contain(owner);
      expect(text).to.not.contain(contactEmail);
      expect(text).to.not.contain('parcel arrive');
    });
  });
});
