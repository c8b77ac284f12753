import { expect } from 'chai';
import knexFactory, { type Knex } from 'knex';
import { createKnex, migrateLatest } from '../../../src/db/knex';
import type { HookEvents, SandboxHooks } from '../../../src/sandbox/hooks';
import { testDatabaseUrl } from '../../support/config';
import { signIn, uniqueEmail, waitFor, type HttpClient } from '../../support/http-client';
import { deliverRaw, setFaults, type Delivered } from '../../support/mail-loop';
import { PrivatePostgres } from '../../support/private-postgres';
import { PrivateRedis } from '../../support/private-redis';
import { assertExactlyOnce, describeReport, type SendChecker, type SendReport } from '../../support/send-checker';
import { startTestSystem, type TestSystem } from '../../support/system';
import { WorkerProcess, workerEnv } from '../../support/worker-process';
import { cursorDecreases, installCursorMonitor, removeCursorMonitor } from './cursor-monitor';

/** FULL_FAULTS=1 (npm run test:faults) runs every case at full size; CI runs one case of each kind. */
export const FULL = process.env.FULL_FAULTS === '1';

/** The recovery machinery, timed short so that recovery happens within a test. */
export const FAULT_TIMINGS = {
  WORKER_LOCK_MS: '2000',
  RECONCILE_INTERVAL_SECONDS: '1',
  REPLY_SEND_LEASE_SECONDS: '2',
} as const;

export interface RigOptions {
  /** Worker child processes (each the real src/main/worker.ts). */
  workers?: number;
  /** Redis and PostgreSQL servers of this rig alone, which the test may restart. */
  privateRedis?: boolean;
  privatePostgres?: boolean;
  /** Configuration of web and workers, on top of FAULT_TIMINGS. */
  overrides?: Record<string, string>;
}

export interface RigUser {
  email: string;
  id: string;
  client: HttpClient;
}

export interface RigContact {
  id: string;
  email: string;
}

const REPLY_UNFINISHED = ['pending', 'sending'];

/**
 * One system under fault: web + sandbox in this process (the sandbox is where faults and hooks
 * live), the worker(s) as child processes that a test can SIGKILL, optionally on a Redis and a
 * PostgreSQL of its own, and a cursor monitor in the database.
 */
export class FaultRig {
  private constructor(
    readonly system: TestSystem,
    readonly workers: WorkerProcess[],
    /** The test's own connection, for assertions (never the product's pool). */
    readonly db: Knex,
    readonly databaseUrl: string,
    readonly redis: PrivateRedis | undefined,
    readonly postgres: PrivatePostgres | undefined,
    private readonly timings: { lockMs: number; leaseMs: number; reconcileMs: number },
  ) {}

  static async start(opts: RigOptions = {}): Promise<FaultRig> {
    const redis = opts.privateRedis ? await PrivateRedis.start() : undefined;
    let postgres: PrivatePostgres | undefined;
    let system: TestSystem | undefined;
    let db: Knex | undefined;
    const workers: WorkerProcess[] = [];
    try {
      postgres = opts.privatePostgres ? await PrivatePostgres.start() : undefined;
      let databaseUrl = testDatabaseUrl();
      if (postgres) {
        databaseUrl = await postgres.createDatabase('ga_faults');
        const migrator = createKnex({ databaseUrl, poolMax: 1 });
        await migrateLatest(migrator);
        await migrator.destroy();
      }
      const overrides: Record<string, string> = { ...FAULT_TIMINGS, DATABASE_URL: databaseUrl, ...(redis ? { REDIS_URL: redis.url } : {}), ...opts.overrides };
      system = await startTestSystem({ overrides, worker: false });
      db = knexFactory({ client: 'pg', connection: databaseUrl, pool: { min: 0, max: 3 } });
      await installCursorMonitor(db);
      const { config } = system.container;
      const env = workerEnv({ publicUrl: system.baseUrl, databaseUrl, redisUrl: config.redisUrl, redisPrefix: config.redisPrefix, overrides });
      for (let i = 0; i < (opts.workers ?? 1); i += 1) workers.push(new WorkerProcess(`worker${i + 1}`, env));
      await Promise.all(workers.map((w) => w.start()));
      const timings = {
        lockMs: config.worker.lockMs,
        leaseMs: config.pipeline.replySendLeaseSeconds * 1000,
        reconcileMs: config.pipeline.reconcileIntervalSeconds * 1000,
      };
      return new FaultRig(system, workers, db, databaseUrl, redis, postgres, timings);
    } catch (err) {
      await Promise.all(workers.map((w) => w.kill()));
      await system?.close().catch(() => undefined);
      await db?.destroy().catch(() => undefined);
      await redis?.stop();
      await postgres?.destroy();
      throw err;
    }
  }

  get baseUrl(): string {
    return this.system.baseUrl;
  }

  get hooks(): SandboxHooks {
    return this.system.sandbox!.hooks;
  }

  get worker(): WorkerProcess {
    return this.workers[0]!;
  }

  async newUser(local = 'owner'): Promise<RigUser> {
    const email = uniqueEmail(local);
    const client = await signIn(this.baseUrl, email);
    const me = await client.get<{ id: string }>('/api/me');
    expect(me.status, me.text).to.equal(200);
    return { email, id: me.body.id, client };
  }

  async newContact(user: RigUser, active: boolean, local = 'contact'): Promise<RigContact> {
    const res = await user.client.post<RigContact>('/api/contacts', {
      email: uniqueEmail(local),
      name: 'Fault Contact',
      description_ai: 'A supplier. Answer briefly and politely.',
      is_active: active,
    });
    expect(res.status, res.text).to.equal(201);
    return { id: res.body.id, email: res.body.email };
  }

  /** Delivers a mail and tells the checker whether it must be answered (exactly once) or not at all. */
  async deliver(checker: SendChecker, user: RigUser, raw: Buffer, eligible: boolean, label: string): Promise<Delivered> {
    const delivered = await deliverRaw(this.baseUrl, user.email, raw);
    checker.expect({ mailbox: user.email, messageId: delivered.message_id, eligible, label });
    return delivered;
  }

  async setFaults(user: RigUser, faults: Record<string, unknown>): Promise<void> {
    await setFaults(this.baseUrl, user.email, faults);
  }

  /** Counts, from now on, the Gmail answers that `when` accepts: proof that a fault took effect. */
  countGmailAnswers(when: (e: HookEvents['gmail.answered']) => boolean): { readonly count: number; stop(): void } {
    let count = 0;
    const stop = this.hooks.on('gmail.answered', (e) => {
      if (when(e)) count += 1;
    });
    return {
      get count() {
        return count;
      },
      stop,
    };
  }

  /** Waits until every eligible mail the checker knows has at least one send (no check of the rest). */
  async waitUntilAnswered(checker: SendChecker, timeoutMs = 30_000): Promise<void> {
    await waitFor('every eligible mail answered', async () => (await checker.report()).lost.length === 0, timeoutMs, 100);
  }

  /** How long a duplicate could still be on its way once everything looks done. */
  get settleMs(): number {
    const { lockMs, leaseMs, reconcileMs } = this.timings;
    return Math.max(lockMs, leaseMs) + 2 * reconcileMs + 500;
  }

  /**
   * Waits until every eligible mail has been answered and no reply of these users is still
   * pending or being sent (or until `timeoutMs`), then lets the settle window pass so that a late
   * duplicate has its chance, and asserts: 0 lost, 0 duplicates, nothing else answered, no cursor
   * ever moved back.
   */
  async verify(checker: SendChecker, users: RigUser[], timeoutMs = 60_000): Promise<SendReport> {
    const ids = users.map((u) => u.id);
    await waitFor(
      'every eligible mail answered and no reply unfinished',
      async () => {
        const report = await checker.report();
        if (report.lost.length > 0) return false;
        const unfinished = await this.db('replies').whereIn('user_id', ids).whereIn('status', REPLY_UNFINISHED).count<{ n: string }[]>({ n: '*' });
        return Number(unfinished[0]?.n ?? 0) === 0;
      },
      timeoutMs,
      200,
    ).catch(() => undefined); // the report below says what is missing
    await new Promise((r) => setTimeout(r, this.settleMs));
    const report = await checker.report();
    try {
      assertExactlyOnce(report, checker.eligibleCount);
      expect(await cursorDecreases(this.db, ids), 'Gmail cursors that moved back').to.deep.equal([]);
    } catch (err) {
      (err as Error).message += `\n\n${await this.diagnosis(ids)}`;
      throw err;
    }
    return report;
  }

  /** Reply rows by state and reason, and the workers' last words: what a failure report needs. */
  async diagnosis(userIds: string[]): Promise<string> {
    const rows = await this.db('replies')
      .whereIn('user_id', userIds)
      .groupBy('status', 'failure_reason')
      .select('status', 'failure_reason')
      .count<Array<{ status: string; failure_reason: string | null; n: string }>>({ n: '*' })
      .catch((err: Error) => [{ status: `unreadable: ${err.message}`, failure_reason: null, n: '?' }]);
    const connections = await this.db('gmail_connections').whereIn('user_id', userIds).groupBy('status').select('status').count<Array<{ status: string; n: string }>>({ n: '*' }).catch(() => []);
    return [
      `reply rows: ${rows.map((r) => `${r.status}${r.failure_reason ? `(${r.failure_reason})` : ''}=${r.n}`).join(', ') || 'none'}`,
      `gmail connections: ${connections.map((c) => `${c.status}=${c.n}`).join(', ')}`,
      ...this.workers.map((w) => `--- ${w.name}, last lines ---\n${w.output(60)}`),
    ].join('\n');
  }

  /** Describes the current sends, for a test that wants to show them without failing yet. */
  async describe(checker: SendChecker): Promise<string> {
    return describeReport(await checker.report(), checker.eligibleCount);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.kill()));
    // Clients of a stopped server would wait for it forever: bring the servers back first.
    await this.redis?.start();
    await this.postgres?.start();
    await this.system.close().catch(() => undefined);
    await removeCursorMonitor(this.db).catch(() => undefined);
    await this.db.destroy();
    await this.redis?.stop();
    await this.postgres?.destroy();
  }
}
