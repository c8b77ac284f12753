import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { Registry } from 'prom-client';
import { metricsRoutes } from '../../src/http/routes/metrics';
import { errorHandler } from '../../src/http/middleware/errors';
import { HttpClient, signIn, uniqueEmail, waitFor } from '../support/http-client';
import { deliverRaw, waitForHistory, waitForIdle } from '../support/mail-loop';
import { freeLoopbackPort } from '../support/free-port';
import { startTestSystem, type TestSystem } from '../support/system';
import { WorkerProcess, workerEnv } from '../support/worker-process';

const TOKEN = 'metrics-token-for-tests-0123456789';
const EMAIL = /[^\s"@]+@[^\s"@]+\.[a-z]+/i;
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text format (enough of it for these tests). */
function parse(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`unreadable metrics line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]!] = pair[2]!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return samples;
}

function find(samples: Sample[], name: string, labels: Record<string, string> = {}): Sample[] {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

async function scrape(url: string, token = TOKEN): Promise<Sample[]> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).to.equal(200);
  expect(res.headers.get('content-type')).to.contain('text/plain');
  return parse(await res.text());
}

function labelsCarryNoUserData(samples: Sample[], userIds: string[]): void {
  for (const s of samples) {
    for (const value of Object.values(s.labels)) {
      expect(value, `${s.name} label`).to.not.match(EMAIL);
      expect(value, `${s.name} label`).to.not.match(UUID);
      for (const id of userIds) expect(value).to.not.contain(id);
    }
  }
}

describe('Prometheus metrics', function () {
  this.timeout(90_000);

  describe('web and worker', () => {
    let system: TestSystem;
    let worker: WorkerProcess;
    let workerMetricsUrl: string;
    const userIds: string[] = [];

    before(async () => {
      const overrides = { METRICS_TOKEN: TOKEN, JOB_ATTEMPTS: '1', LLM_MAX_RETRIES: '0' };
      system = await startTestSystem({ worker: false, overrides });
      const port = await freeLoopbackPort();
      const { config } = system.container;
      worker = new WorkerProcess(
        'metrics-worker',
        workerEnv({ publicUrl: system.baseUrl, databaseUrl: config.databaseUrl, redisUrl: config.redisUrl, redisPrefix: config.redisPrefix, overrides: { ...overrides, WORKER_METRICS_PORT: String(port), WORKER_METRICS_HOST: '127.0.0.1' } }),
      );
      await worker.start();
      workerMetricsUrl = `http://127.0.0.1:${port}/metrics`;
    });
    after(async () => {
      await fetch(`${system.baseUrl}/sandbox/openai/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }).catch(() => undefined);
      await worker?.stop();
      await system?.close();
    });

    it('asks for the bearer token on web and worker: 401 without it or with a wrong one', async () => {
      for (const url of [`${system.baseUrl}/metrics`, workerMetricsUrl]) {
        const none = await fetch(url);
        expect(none.status, url).to.equal(401);
        expect(none.headers.get('www-authenticate')).to.match(/^Bearer/);
        expect((await fetch(url, { headers: { authorization: `Bearer ${TOKEN}x` } })).status, url).to.equal(401);
        expect((await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } })).status, url).to.equal(200);
      }
    });

    it('measures requests by route pattern, method and status, never by raw URL', async () => {
      const client = await signIn(system.baseUrl, uniqueEmail('metrics'));
      userIds.push((await client.get<{ id: string }>('/api/me')).body.id);
      const contact = await client.post<{ id: string }>('/api/contacts', { email: uniqueEmail('c'), name: 'C' });
      expect((await client.get(`/api/contacts/${contact.body.id}`)).status).to.equal(200);
      expect((await client.get(`/api/contacts/${contact.body.id.replace(/.$/, '0')}x`)).status).to.equal(400);
      expect((await new HttpClient(system.baseUrl).get('/no/such/path/12345')).status).to.equal(404);

      const samples = await scrape(`${system.baseUrl}/metrics`);
      const get = find(samples, 'http_request_duration_seconds_count', { route: '/api/contacts/:id', method: 'GET', status: '200' });
      expect(get, 'GET /api/contacts/:id 200').to.have.length(1);
      expect(get[0]!.value).to.be.at.least(1);
      expect(find(samples, 'http_request_duration_seconds_count', { route: '/api/contacts/:id', method: 'GET', status: '400' })).to.have.length(1);
      expect(find(samples, 'http_request_duration_seconds_count', { route: 'unmatched', status: '404' })).to.have.length(1);
      expect(find(samples, 'http_request_duration_seconds_bucket', { route: '/api/contacts', method: 'POST', status: '201', le: '+Inf' })).to.have.length(1);
      const routes = new Set(find(samples, 'http_request_duration_seconds_count').map((s) => s.labels.route));
      for (const route of routes) expect(route).to.not.contain(contact.body.id);
      labelsCarryNoUserData(samples, userIds);
    });

    it('reports job durations and failures by queue, queue sizes by state, Gmail and LLM figures and the earliest watch expiry', async () => {
      const owner = uniqueEmail('metrics.owner');
      const client = await signIn(system.baseUrl, owner);
      userIds.push((await client.get<{ id: string }>('/api/me')).body.id);
      const contactEmail = uniqueEmail('metrics.contact');
      const contact = await client.post<{ id: string }>('/api/contacts', { email: contactEmail, name: 'Writer', is_active: true });
      const raw = (subject: string) => Buffer.from(`From: ${contactEmail}\r\nTo: ${owner}\r\nSubject: ${subject}\r\nMessage-ID: <${Math.random()}@x.example>\r\n\r\nHello?\r\n`);
      await deliverRaw(system.baseUrl, owner, raw('Answered'));
      await waitForHistory(client, contact.body.id, { received: 1, sent: 1 });
      // A reply that fails for good: one attempt, the LLM refuses.
      await fetch(`${system.baseUrl}/sandbox/openai/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ fail_next: 100, status: 500 }) });
      await deliverRaw(system.baseUrl, owner, raw('Refused'));
      await waitFor('the failed reply', async () => (await system.container.db('replies').where({ contact_id: contact.body.id, status: 'failed' }).first()) ?? undefined);
      await fetch(`${system.baseUrl}/sandbox/openai/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      await waitForIdle(system);

      const samples = await waitFor('the worker to count the failure', async () => {
        const s = await scrape(workerMetricsUrl);
        return find(s, 'job_failures_total', { queue: 'reply', final: 'true' }).some((x) => x.value >= 1) ? s : undefined;
      });
      expect(find(samples, 'job_duration_seconds_count', { queue: 'reply', outcome: 'completed' })[0]?.value).to.be.at.least(1);
      expect(find(samples, 'job_duration_seconds_count', { queue: 'mailbox-sync', outcome: 'completed' })[0]?.value).to.be.at.least(1);
      expect(find(samples, 'job_duration_seconds_count', { queue: 'reply', outcome: 'failed' })[0]?.value).to.be.at.least(1);
      expect(find(samples, 'llm_request_duration_seconds_count', { outcome: 'ok' })[0]?.value).to.be.at.least(1);
      expect(find(samples, 'gmail_api_calls_total', { method: 'messages.send', outcome: 'ok' })[0]?.value).to.be.at.least(1);
      expect(find(samples, 'gmail_quota_units_total', { method: 'messages.send' })[0]?.value).to.be.at.least(100);

      // Queue sizes (read from Redis at scrape time), every queue and state, on web and worker alike.
      for (const source of [samples, await scrape(`${system.baseUrl}/metrics`)]) {
        for (const queue of ['mailbox-sync', 'reply', 'gmail-watch', 'maintenance']) {
          for (const state of ['waiting', 'active', 'delayed', 'failed', 'completed']) {
            expect(find(source, 'bullmq_queue_jobs', { queue, state }), `${queue} ${state}`).to.have.length(1);
          }
        }
        expect(find(source, 'bullmq_queue_jobs', { queue: 'reply', state: 'failed' })[0]!.value).to.be.at.least(1);
        expect(find(source, 'bullmq_queue_jobs', { queue: 'reply', state: 'completed' })[0]!.value).to.be.at.least(1);
      }

      const web = await scrape(`${system.baseUrl}/metrics`);
      expect(find(web, 'gmail_pushes_total', { source: 'push', outcome: 'queued' })[0]?.value).to.be.at.least(1);
      const expiry = find(web, 'gmail_watch_earliest_expiry_timestamp_seconds')[0]!.value;
      const earliest = await system.container.db('gmail_connections').where({ status: 'ok' }).min({ min: 'watch_expires_at' }).first();
      expect(expiry).to.equal((earliest!.min as Date).getTime() / 1000);
      expect(expiry * 1000).to.be.greaterThan(Date.now());

      // Default process metrics, on both.
      for (const source of [web, samples]) {
        expect(find(source, 'process_cpu_user_seconds_total')).to.have.length(1);
        expect(find(source, 'process_resident_memory_bytes')).to.have.length(1);
        expect(find(source, 'nodejs_eventloop_lag_seconds')).to.have.length(1);
      }
      labelsCarryNoUserData([...web, ...samples], userIds);
    });

    it('serves /livez and /readyz on the worker port without a token', async () => {
      const base = workerMetricsUrl.replace(/\/metrics$/, '');
      expect((await fetch(`${base}/livez`)).status).to.equal(200);
      const ready = await fetch(`${base}/readyz`);
      expect(ready.status).to.equal(200);
      expect(await ready.json()).to.deep.equal({ status: 'ok', checks: { postgres: 'ok', redis: 'ok' } });
    });
  });

  describe('without a token', () => {
    async function serve(openWithoutToken: boolean): Promise<{ url: string; close(): Promise<void> }> {
      const app = new Koa();
      app.use(errorHandler());
      app.use(metricsRoutes({ registry: new Registry(), token: '', openWithoutToken }).routes());
      const server = http.createServer(app.callback());
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`, close: () => new Promise((r) => server.close(() => r())) };
    }

    it('is open where allowed (a development web, the worker side port) and off on a production web port', async () => {
      const open = await serve(true);
      const closed = await serve(false);
      try {
        expect((await fetch(open.url)).status).to.equal(200);
        expect((await fetch(closed.url)).status).to.equal(404);
      } finally {
        await open.close();
        await closed.close();
      }
    });
  });
});
