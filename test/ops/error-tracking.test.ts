import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { createErrorReporter } from '../../src/observability/error-reporter';
import { createLogger } from '../../src/observability/logger';
import { scrubEvent, scrubText } from '../../src/observability/scrub';
import { createKnex, migrateLatest } from '../../src/db/knex';
import { signIn, uniqueEmail, waitFor } from '../support/http-client';
import { deliverRaw } from '../support/mail-loop';
import { PrivatePostgres } from '../support/private-postgres';
import { startTestSystem, type TestSystem } from '../support/system';

interface SentryEvent {
  event_id: string;
  environment?: string;
  level?: string;
  tags?: Record<string, string>;
  request?: unknown;
  user?: unknown;
  breadcrumbs?: unknown;
  exception?: { values: Array<{ type: string; value: string }> };
}

/** A stand-in for Sentry's ingest endpoint on 127.0.0.1 that keeps every event it is sent. */
class RecordingEndpoint {
  readonly events: SentryEvent[] = [];
  readonly raw: string[] = [];
  private server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const received = Buffer.concat(chunks);
      const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(received) : received;
      const text = body.toString('utf8');
      this.raw.push(`${req.method} ${req.url}\n${JSON.stringify(req.headers)}\n${text}`);
      const lines = text.split('\n');
      for (let i = 1; i + 1 < lines.length; i += 2) {
        const item = JSON.parse(lines[i]!) as { type: string };
        if (item.type === 'event') this.events.push(JSON.parse(lines[i + 1]!) as SentryEvent);
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://publickey0123456789@127.0.0.1:${(this.server.address() as AddressInfo).port}/42`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(() => r(undefined)));
  }
}

const SECRET_BITS = {
  email: 'victim.person@example.org',
  jwt: 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXBhcnQtb2YtdGhlLXRva2Vu',
  google: 'ya29.a0AfH6SMBx-google-access-token-value',
  refresh: '1//0gLr-refresh-token-value-xyz',
  bearer: 'Bearer sk-live-abcdefghijklmnop',
  query: 'code=4/0AX4XfWh-authorization-code',
};

describe('error tracking (Sentry)', function () {
  this.timeout(90_000);

  describe('scrubbing', () => {
    it('replaces tokens, keys, codes and addresses in text, and cuts long text', () => {
      const text = scrubText(`failed for ${SECRET_BITS.email} with ${SECRET_BITS.jwt} ${SECRET_BITS.google} ${SECRET_BITS.refresh} ${SECRET_BITS.bearer} ?${SECRET_BITS.query}&state=abc`);
      for (const bit of [SECRET_BITS.email, SECRET_BITS.jwt, SECRET_BITS.google, SECRET_BITS.refresh, 'sk-live-abcdefghijklmnop', '4/0AX4XfWh', 'state=abc']) expect(text).to.not.contain(bit);
      expect(text).to.contain('failed for [email]');
      expect(scrubText('x'.repeat(2000)).length).to.be.lessThan(600);
    });

    it('drops request bodies, cookies, headers, query strings, user details and breadcrumbs', () => {
      const event = scrubEvent({
        request: { method: 'POST', url: 'https://app.example/api/contacts?login_hint=a@b.co', data: '{"description_ai":"private"}', cookies: { sid: 'x' }, headers: { cookie: 'sid=x', authorization: 'Bearer y' }, query_string: 'login_hint=a@b.co' },
        user: { id: 'u-1', email: 'a@b.co', ip_address: '10.0.0.1' },
        breadcrumbs: [{ message: 'private' }],
        exception: { values: [{ stacktrace: { frames: [{ filename: '/app/src/services/replies.ts', vars: { text: 'private' } }] } }] },
      });
      expect(event.request).to.deep.equal({ method: 'POST', url: 'https://app.example/api/contacts' });
      expect(event.user).to.deep.equal({ id: 'u-1' });
      expect(JSON.stringify(event)).to.not.match(/private|a@b\.co|sid=|10\.0\.0\.1/);
      expect(event.exception!.values![0]!.stacktrace!.frames![0]!.filename).to.equal('/app/src/services/replies.ts');
    });
  });

  describe('the SDK', () => {
    /** Enough of npm's range syntax for engines fields made of `>=x.y.z <x.y.z` clauses joined by `||`. */
    function satisfies(version: string, range: string): boolean {
      const n = (v: string) => v.split('.').map(Number).reduce((acc, part) => acc * 1000 + part, 0);
      return range.split('||').some((clause) =>
        clause.trim().split(/\s+/).every((cond) => {
          const m = /^(>=|<)(\d+\.\d+\.\d+)$/.exec(cond);
          if (!m) throw new Error(`unexpected engines condition ${cond}`);
          return m[1] === '>=' ? n(version) >= n(m[2]!) : n(version) < n(m[2]!);
        }),
      );
    }

    it('is a version whose engines field admits this Node (20.19+), and it loads', () => {
      const pkg = require('@sentry/node/package.json') as { version: string; engines: { node: string } };
      expect(satisfies(process.versions.node, pkg.engines.node), `@sentry/node ${pkg.version} engines ${pkg.engines.node}`).to.equal(true);
      expect(satisfies('20.19.0', pkg.engines.node)).to.equal(true);
      const ours = require('../../package.json') as { engines: { node: string }; dependencies: Record<string, string> };
      expect(ours.dependencies['@sentry/node']).to.equal(pkg.version);
      expect(ours.engines.node).to.equal('>=20.19.0');
      expect(typeof (require('@sentry/node') as { NodeClient: unknown }).NodeClient).to.equal('function');
    });
  });

  describe('without a DSN', () => {
    it('is a no-op that never loads the SDK, so nothing can leave the machine', () => {
      const reporter = createErrorReporter({ dsn: '', environment: 'test', logger: createLogger({ level: 'silent', pretty: false }) });
      expect(reporter.enabled).to.equal(false);
      reporter.httpError(new Error('x'), { requestId: 'r', method: 'GET', route: '/', status: 500 });
      // In a fresh process (this one may have loaded it for other tests): the SDK is not even required.
      const script = [
        "const { createErrorReporter } = require('./src/observability/error-reporter');",
        "const { createLogger } = require('./src/observability/logger');",
        "const r = createErrorReporter({ dsn: '', environment: 'test', logger: createLogger({ level: 'silent', pretty: false }) });",
        "r.jobFailed(new Error('x'), { queue: 'reply', attempts: 1 });",
        "process.stdout.write(JSON.stringify(Object.keys(require.cache).filter((k) => k.includes('@sentry'))));",
      ].join('\n');
      const run = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: path.resolve(__dirname, '../..'), encoding: 'utf8', timeout: 30_000 });
      expect(run.status, run.stderr).to.equal(0);
      expect(JSON.parse(run.stdout)).to.deep.equal([]);
    });
  });

  describe('with a DSN pointing at a local endpoint', () => {
    let endpoint: RecordingEndpoint;
    let dsn: string;
    let postgres: PrivatePostgres;
    let system: TestSystem;

    before(async () => {
      endpoint = new RecordingEndpoint();
      dsn = await endpoint.start();
      postgres = await PrivatePostgres.start();
      const databaseUrl = await postgres.createDatabase('ga_sentry');
      const migrator = createKnex({ databaseUrl, poolMax: 1 });
      await migrateLatest(migrator);
      await migrator.destroy();
      system = await startTestSystem({ overrides: { DATABASE_URL: databaseUrl, SENTRY_DSN: dsn, SENTRY_ENVIRONMENT: 'ci', JOB_ATTEMPTS: '1', LLM_MAX_RETRIES: '0' } });
    });
    after(async () => {
      await fetch(`${system.baseUrl}/sandbox/openai/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }).catch(() => undefined);
      await postgres?.start();
      await system?.close();
      await postgres?.destroy();
      await endpoint?.close();
    });

    it('reports a job that failed for good, with its queue, job and request ids', async () => {
      const owner = uniqueEmail('sentry.owner');
      const client = await signIn(system.baseUrl, owner);
      const contactEmail = uniqueEmail('sentry.contact');
      expect((await client.post('/api/contacts', { email: contactEmail, name: 'C', description_ai: 'Confidential instruction', is_active: true })).status).to.equal(201);
      await fetch(`${system.baseUrl}/sandbox/openai/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ fail_next: 100, status: 500 }) });
      await deliverRaw(system.baseUrl, owner, Buffer.from(`From: ${contactEmail}\r\nTo: ${owner}\r\nSubject: Private subject\r\nMessage-ID: <s1@x.example>\r\n\r\nPrivate body text.\r\n`));
      await system.container.errors.flush();
      const event = await waitFor('the job event', async () => {
        await system.container.errors.flush();
        return endpoint.events.find((e) => e.tags?.kind === 'job');
      });
      expect(event.tags).to.include({ queue: 'reply' });
      expect(event.environment).to.equal('ci');
      expect(event.tags!.job_id).to.match(/^reply-/);
      expect(event.tags!.request_id).to.be.a('string');
      expect(event.exception!.values[0]!.value).to.be.a('string');
      const sent = endpoint.raw.join('\n');
      for (const bit of [owner, contactEmail, 'Private subject', 'Private body text', 'Confidential instruction', 'sandbox-llm-key']) expect(sent).to.not.contain(bit);
    });

    it('reports an HTTP 5xx with its request id and route pattern, and nothing of the request', async () => {
      const client = await signIn(system.baseUrl, uniqueEmail('sentry.http'));
      await postgres.stop('fast');
      const res = await client.get<{ error: { code: string } }>('/api/contacts?limit=5');
      await postgres.start();
      expect(res.status).to.equal(500);
      expect(res.body.error.code).to.equal('internal_error');
      const requestId = res.headers.get('x-request-id')!;
      const event = await waitFor('the http event', async () => {
        await system.container.errors.flush();
        return endpoint.events.find((e) => e.tags?.request_id === requestId);
      });
      expect(event.tags).to.include({ kind: 'http', method: 'GET', route: '/api/contacts', status: '500' });
      expect(event).to.not.have.property('request');
      expect(event).to.not.have.property('user');
      expect(JSON.stringify(event)).to.not.contain(client.cookieHeader().split('=')[1]!.slice(0, 20));
    });

    it('sends what the reporter is given through beforeSend: tokens and addresses never leave', async () => {
      const err = new Error(`refresh failed for ${SECRET_BITS.email}: ${SECRET_BITS.google} ${SECRET_BITS.refresh} ${SECRET_BITS.jwt} ${SECRET_BITS.bearer} ${SECRET_BITS.query}`);
      system.container.errors.httpError(err, { requestId: 'req-scrub-check-1', method: 'POST', route: '/webhooks/gmail', status: 502 });
      const event = await waitFor('the scrubbed event', async () => {
        await system.container.errors.flush();
        return endpoint.events.find((e) => e.tags?.request_id === 'req-scrub-check-1');
      });
      expect(event.exception!.values[0]!.value).to.contain('refresh failed for [email]');
      const sent = endpoint.raw.join('\n');
      for (const bit of Object.values(SECRET_BITS)) expect(sent).to.not.contain(bit.replace(/^(Bearer|code=)\s?/, ''));
    });
  });
});
