import { expect } from 'chai';
import { fork, type ChildProcess } from 'node:child_process';
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import Koa from 'koa';
import Router from '@koa/router';
import { Queue, QueueEvents } from 'bullmq';
import type pg from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { createKnex } from '../../src/db/knex';
import { koaBaseline } from '../../bench/baselines/koa';
import { pgBaselines } from '../../bench/baselines/pg';
import { ADD_QUEUE, bullmqAddBaseline } from '../../bench/baselines/bullmq-add';
import { JOBS_QUEUE } from '../../bench/baselines/bullmq-jobs';

interface Row {
  id: string;
  user_id: string;
  email: string;
  deleted_at: string | null;
}

/** The bare baselines the bench measures the product against, on the test run's database and Redis. */
describe('bench: baselines (issue 7, point 2)', function () {
  this.timeout(30_000);
  // Set by the global setup, which runs after this file is loaded.
  let db: ReturnType<typeof createKnex>;
  let connection: { host: string; port: number; maxRetriesPerRequest: null };
  let prefix: string;
  let server: Server;
  let base: string;
  let pool: pg.Pool;
  let addQueue: Queue;
  const userId = uuidv7();
  const contactIds: string[] = [];

  before(async () => {
    db = createKnex({ databaseUrl: process.env.TEST_DATABASE_URL!, poolMax: 2 });
    const redisUrl = new URL(process.env.TEST_REDIS_URL!);
    connection = { host: redisUrl.hostname, port: Number(redisUrl.port || 6379), maxRetriesPerRequest: null };
    prefix = `${process.env.TEST_REDIS_PREFIX!}:bench`;
    await db('users').insert({ id: userId, email: `bench-${userId}@example.com`, google_sub: `bench-${userId}` });
    for (let i = 0; i < 60; i += 1) {
      const id = uuidv7();
      contactIds.push(id);
      await db('contacts').insert({ id, user_id: userId, email: `v1.sealed-${i}`, email_hash: `hash-${userId}-${i}`, name: 'v1.sealed', description_ai: 'v1.sealed', is_active: true });
    }
    const app = new Koa();
    app.silent = true;
    const router = new Router();
    koaBaseline(router);
    pool = pgBaselines(router, { databaseUrl: process.env.TEST_DATABASE_URL!, poolMax: 2 });
    addQueue = bullmqAddBaseline(router, { connection, prefix });
    app.use(router.routes());
    server = http.createServer(app.callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await pool.end();
    await addQueue.obliterate({ force: true });
    await addQueue.close();
    await db('users').where({ id: userId }).delete();
    await db.destroy();
  });

  it('B-koa answers a small JSON body from a bare Koa + @koa/router route', async () => {
    const res = await fetch(`${base}/b/koa`);
    expect(res.status).to.equal(200);
    expect(await res.json()).to.deep.equal({ status: 'ok' });
  });

  it('B-get selects one contact row by primary key, as stored', async () => {
    const res = await fetch(`${base}/b/get/${contactIds[7]}`);
    expect(res.status).to.equal(200);
    const row = (await res.json()) as Row;
    expect(row).to.include({ id: contactIds[7], user_id: userId, email: 'v1.sealed-7' });
  });

  it('B-list reads a keyset page of 50 of the user’s live rows, newest id first, with a cursor', async () => {
    const res = await fetch(`${base}/b/list/${userId}`);
    const page = (await res.json()) as { items: Row[]; next_cursor: string | null };
    expect(page.items.map((r) => r.id)).to.deep.equal([...contactIds].reverse().slice(0, 50));
    expect(page.next_cursor).to.be.a('string');
  });

  it('B-insert parses a JSON body and inserts it as one row', async () => {
    const res = await fetch(`${base}/b/insert/${userId}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'New@Example.org', name: 'New', is_active: true }) });
    expect(res.status).to.equal(201);
    const row = (await res.json()) as Row;
    expect(await db('contacts').where({ id: row.id }).first('email_hash', 'is_active')).to.deep.equal({ email_hash: 'new@example.org', is_active: true });
    await db('contacts').where({ id: row.id }).delete();
  });

  it('B-add queues one BullMQ job per request', async () => {
    for (let i = 0; i < 3; i += 1) expect((await fetch(`${base}/b/add`, { method: 'POST' })).status).to.equal(204);
    const queue = new Queue(ADD_QUEUE, { connection, prefix });
    try {
      expect(await queue.getWaitingCount()).to.equal(3);
    } finally {
      await queue.close();
    }
  });

  it('B-jobs, a process of its own, completes every job it is given and does nothing with it', async () => {
    const jobsPrefix = `${prefix}-jobs`;
    const child: ChildProcess = fork(path.resolve(__dirname, '../../bench/baselines/bullmq-jobs.ts'), [], {
      execArgv: ['--import', 'tsx'],
      env: { PATH: process.env.PATH, REDIS_HOST: connection.host, REDIS_PORT: String(connection.port), BULL_PREFIX: jobsPrefix, CONCURRENCY: '5' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const queue = new Queue(JOBS_QUEUE, { connection, prefix: jobsPrefix });
    const events = new QueueEvents(JOBS_QUEUE, { connection, prefix: jobsPrefix });
    try {
      await new Promise<void>((resolve, reject) => {
        child.once('message', (m: { type?: string }) => (m.type === 'ready' ? resolve() : reject(new Error('unexpected message'))));
        child.once('exit', (code) => reject(new Error(`B-jobs exited with ${code}`)));
      });
      await events.waitUntilReady();
      let completed = 0;
      const all = new Promise<void>((resolve) => events.on('completed', () => (completed += 1) === 50 && resolve()));
      await queue.addBulk(Array.from({ length: 50 }, (_, i) => ({ name: 'job', data: { i } })));
      await all;
      expect(await queue.getCompletedCount()).to.equal(50);
      expect(await queue.getFailedCount()).to.equal(0);
    } finally {
      child.kill('SIGTERM');
      await events.close();
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });
});
