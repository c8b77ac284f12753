import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { httpSide } from '../../bench/lib/paired';
import { runWrk } from '../../bench/lib/wrk';
import { HAS_TASKSET } from '../../bench/lib/children';

/**
 * The load generator of the bench: wrk, a process of its own, driven by bench/load.lua. Runs of a
 * second against a local server (bench speed itself is measured by `npm run bench`, not here).
 */
describe('bench: the load generator (issue 7, point 1)', function () {
  this.timeout(30_000);
  let server: Server;
  let url: string;
  const seen: Array<{ method: string; body: string; authorization: string | undefined; url: string }> = [];
  let dir: string;

  before(async function () {
    if (spawnSync('wrk', ['--version']).error) {
      console.log('      wrk is not installed: the load generator cannot run on this machine (.ci/run installs it with apt-get)');
      this.skip();
    }
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ method: req.method!, body, authorization: req.headers.authorization, url: req.url! });
        res.writeHead(req.url === '/teapot' ? 418 : 200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    dir = mkdtempSync(path.join(os.tmpdir(), 'bench-wrk-'));
  });
  after(async () => {
    if (!server) return;
    rmSync(dir, { recursive: true, force: true });
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  beforeEach(() => {
    seen.length = 0;
  });

  it('counts requests, rate and latency percentiles, pinned to a CPU where taskset exists', async () => {
    const r = await runWrk({ url: `${url}/ok` }, { connections: 4, seconds: 1, cpus: HAS_TASKSET ? '0' : undefined });
    expect(r.requests).to.be.greaterThan(10);
    // wrk counts the answers it got within the run; the server may also have answered the few in flight at its end.
    expect(seen.length).to.be.within(r.requests, r.requests + 4);
    expect(r.rps).to.be.closeTo(r.requests / r.seconds, 1e-6);
    expect(r.p50Ms).to.be.greaterThan(0).and.at.most(r.p99Ms);
    expect(r.errors).to.equal(0);
  });

  it('counts every answer that is not 2xx or 3xx as an error', async () => {
    const r = await runWrk({ url: `${url}/teapot` }, { connections: 2, seconds: 1 });
    expect(r.requests).to.be.greaterThan(0);
    expect(r.errors).to.equal(r.requests);
  });

  it('sends a body unique to each request, and bearer tokens from a file in turn', async () => {
    const tokensFile = path.join(dir, 'tokens');
    writeFileSync(tokensFile, 'token-a\ntoken-b\ntoken-c\n');
    await runWrk({ url: `${url}/push`, method: 'POST', body: '{"email":"c-{run}-{n}@example.org"}', tokensFile }, { connections: 2, seconds: 1 });
    expect(seen.length).to.be.greaterThan(6);
    expect(seen.every((s) => s.method === 'POST')).to.equal(true);
    expect(new Set(seen.map((s) => s.body)).size, 'every body differs').to.equal(seen.length);
    expect(new Set(seen.map((s) => s.authorization))).to.deep.equal(new Set(['Bearer token-a', 'Bearer token-b', 'Bearer token-c']));
  });

  it('charges the server process the CPU time it spent per request, read from /proc', async () => {
    const side = httpSide('local', () => process.pid, { url: `${url}/ok` }, { connections: 4, seconds: 1, warmupSeconds: 1 });
    const m = await side.run();
    expect(m.count).to.be.greaterThan(10);
    expect(m.cpuMs).to.be.greaterThan(0).and.lessThan(1000);
    expect(m.rate).to.be.greaterThan(0);
  });
});
