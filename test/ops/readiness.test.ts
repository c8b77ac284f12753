import { expect } from 'chai';
import { waitFor } from '../support/http-client';
import { freeLoopbackPort } from '../support/free-port';
import { FaultRig } from '../faults/support/rig';
import { WorkerProcess, workerEnv } from '../support/worker-process';

interface Readiness {
  status: string;
  checks: Record<string, string>;
}

async function readiness(base: string): Promise<{ status: number; body: Readiness }> {
  const res = await fetch(`${base}/readyz`);
  return { status: res.status, body: (await res.json()) as Readiness };
}

/**
 * /readyz of web and worker with PostgreSQL, then Redis, stopped and started again: servers of
 * this test alone (private-postgres.ts, private-redis.ts), never the machine's shared ones.
 */
describe('readiness while PostgreSQL or Redis is down', function () {
  this.timeout(180_000);
  let rig: FaultRig;
  let web: string;
  let worker: string;

  before(async () => {
    const port = await freeLoopbackPort();
    rig = await FaultRig.start({ workers: 1, privateRedis: true, privatePostgres: true, overrides: { WORKER_METRICS_PORT: String(port), WORKER_METRICS_HOST: '127.0.0.1' } });
    web = rig.baseUrl;
    worker = `http://127.0.0.1:${port}`;
  });
  after(async () => {
    await rig?.close();
  });

  async function expectBoth(status: number, checks: Record<string, string>, what: string): Promise<void> {
    for (const [name, base] of [['web', web], ['worker', worker]] as const) {
      const seen = await waitFor(`${name} /readyz ${status} ${what}`, async () => {
        const r = await readiness(base);
        return r.status === status ? r : undefined;
      }, 30_000, 100);
      expect(seen.body.checks, `${name} ${what}`).to.deep.equal(checks);
      expect((await fetch(`${base}/livez`)).status, `${name} /livez ${what}`).to.equal(200);
    }
  }

  it('answers 503 naming PostgreSQL while it is down, and 200 again by itself once it is back', async () => {
    await expectBoth(200, { postgres: 'ok', redis: 'ok' }, 'at first');
    await rig.postgres!.stop('fast');
    await expectBoth(503, { postgres: 'unavailable', redis: 'ok' }, 'with PostgreSQL down');
    await rig.postgres!.start();
    await expectBoth(200, { postgres: 'ok', redis: 'ok' }, 'after PostgreSQL came back');
  });

  it('answers 503 naming Redis while it is down, and 200 again by itself once it is back', async () => {
    await rig.redis!.stop();
    await expectBoth(503, { postgres: 'ok', redis: 'unavailable' }, 'with Redis down');
    await rig.redis!.start();
    await expectBoth(200, { postgres: 'ok', redis: 'ok' }, 'after Redis came back');
  });

  it('starts a worker while Redis is down: its probes answer (not ready), and it writes its schedulers once Redis is up', async () => {
    const port = await freeLoopbackPort();
    const { config } = rig.system.container;
    const env = workerEnv({ publicUrl: rig.baseUrl, databaseUrl: rig.databaseUrl, redisUrl: rig.redis!.url, redisPrefix: config.redisPrefix, overrides: { WORKER_METRICS_PORT: String(port), WORKER_METRICS_HOST: '127.0.0.1' } });
    const late = new WorkerProcess('started-without-redis', env);
    await rig.redis!.stop();
    try {
      await late.start();
      const base = `http://127.0.0.1:${port}`;
      expect((await fetch(`${base}/livez`)).status).to.equal(200);
      const down = await readiness(base);
      expect(down.status).to.equal(503);
      expect(down.body.checks.redis).to.equal('unavailable');

      // Redis comes back empty (no persistence): the worker writes the schedulers again by itself.
      await rig.redis!.start();
      await waitFor('worker ready after Redis started', async () => ((await readiness(base)).status === 200 ? true : undefined), 30_000, 100);
      const names = await waitFor('schedulers written', async () => {
        const found = (await rig.system.container.queues.byName.maintenance.getJobSchedulers()).map((s) => s.name);
        return found.length >= 2 ? found : undefined;
      }, 30_000, 200);
      expect(names.length).to.be.at.least(2);
    } finally {
      await late.kill();
    }
  });
});
