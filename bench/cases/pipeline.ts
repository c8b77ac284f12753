import path from 'node:path';
import { Queue } from 'bullmq';
import { Client } from 'pg';
import type { BenchContext } from '../context';
import { JOBS_QUEUE } from '../baselines/bullmq-jobs';
import { OUTPUT_DIR, setAffinity, spawnNode, type NodeChild } from '../lib/children';
import { procfileNodeFlags } from '../lib/procfile';
import { HttpSession } from '../lib/http-session';
import { runPaired, type Side } from '../lib/paired';
import { CompletedCounter } from '../lib/completed-counter';
import { cpuSeconds } from '../lib/proc';
import { judged, type CaseResult } from '../lib/results';
import { median } from '../lib/stats';
import { loadConfig } from '../../src/config';
import { bullPrefix } from '../../src/jobs/queues';
import { QUEUE_NAMES } from '../../src/jobs/registry';
import { GMAIL_QUOTA_UNITS } from '../../src/gmail/quota-units';
import { profiled } from '../lib/profiled';
import type { MemorySampler } from './memory';

const USERS = 20;
const REPLY_TIMEOUT_MS = 120_000;
/** What one answered mail may cost: history.list + messages.get + messages.send, plus one threads.get. */
const UNITS_PER_REPLY = GMAIL_QUOTA_UNITS['history.list'] + GMAIL_QUOTA_UNITS['messages.get'] + GMAIL_QUOTA_UNITS['messages.send'];
const UNITS_PER_REPLY_MAX = UNITS_PER_REPLY + GMAIL_QUOTA_UNITS['threads.get'];

async function inParallel<T>(items: T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

function percentile(values: number[], p: number): number {
  if (!values.length) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/**
 * The whole pipeline against the sandbox: mail delivered to 20 mailboxes (one per active contact),
 * pushed to the webhook, synced, answered by the LLM, sent and recorded by the product's worker
 * process; against B-jobs, a BullMQ worker doing nothing at the same concurrency.
 */
export async function pipelineCase(ctx: BenchContext, memory: MemorySampler, children: NodeChild[]): Promise<CaseResult[]> {
  const { settings, webUrl, env, log } = ctx;
  if (settings.only.length && !settings.only.includes('pipeline')) return [];
  const config = loadConfig(ctx.productEnv);
  const redisUrl = new URL(env.redisUrl);
  const connection = { host: redisUrl.hostname, port: Number(redisUrl.port || 6379) };

  log('pipeline: push → sync → reply → send → record, vs B-jobs');
  memory.enter('pipeline');
  const contactsPerUser = Math.max(1, Math.round(settings.pipelineMails / USERS));
  const mailboxes: Array<{ email: string; senders: string[] }> = [];
  for (let u = 0; u < USERS; u += 1) {
    const email = `pipe-${u}@example.com`;
    const session = await HttpSession.signIn(webUrl, email);
    const senders: string[] = [];
    for (let c = 0; c < contactsPerUser; c += 1) {
      const sender = `sender-${u}-${c}@example.org`;
      const res = await session.request('POST', '/api/contacts', { email: sender, name: `Sender ${u}-${c}`, description_ai: 'A customer. Answer briefly and kindly.', is_active: true });
      if (res.status !== 201) throw new Error(`creating a contact answered ${res.status}`);
      senders.push(sender);
    }
    mailboxes.push({ email, senders });
  }

  // The product's worker (src/main/worker.ts, compiled) and B-jobs, in processes of their own. In
  // this case the driver is idle while the jobs run, so no process is pinned.
  setAffinity(ctx.web.pid, `${settings.serverCpus},${settings.loadCpus}`);
  // Profiled with --cpu-prof when asked: written when the worker exits at the end of the run.
  const profile = settings.profile.includes('pipeline') ? ['--cpu-prof', `--cpu-prof-dir=${path.join(OUTPUT_DIR, 'profiles')}`, '--cpu-prof-name=pipeline-worker.cpuprofile'] : [];
  const worker = spawnNode({ name: 'worker', entry: ctx.compiled('src/main/worker.ts'), env: ctx.productEnv, nodeFlags: [...procfileNodeFlags('worker'), ...profile] });
  children.push(worker);
  await worker.logged(/"msg":"started"/);
  memory.watch('worker', worker.pid);
  const baselinePrefix = `${env.redisPrefix}:baseline:bull`;
  const jobsWorker = spawnNode({
    name: 'baseline-jobs',
    entry: ctx.compiled('bench/baselines/bullmq-jobs.ts'),
    env: { PATH: process.env.PATH, REDIS_HOST: connection.host, REDIS_PORT: String(connection.port), BULL_PREFIX: baselinePrefix, CONCURRENCY: String(config.worker.concurrency) },
  });
  children.push(jobsWorker);
  await jobsWorker.message('ready');

  const productQueues = Object.values(QUEUE_NAMES);
  const completed = new CompletedCounter(productQueues, bullPrefix(env.redisPrefix), connection);
  const baselineCompleted = new CompletedCounter([JOBS_QUEUE], baselinePrefix, connection);
  await Promise.all([completed.ready(), baselineCompleted.ready()]);
  const jobsQueue = new Queue(JOBS_QUEUE, { connection, prefix: baselinePrefix });
  const db = new Client({ connectionString: env.databaseUrl });
  await db.connect();
  // CPU of the PostgreSQL backends serving this run's database (its server processes, from /proc).
  const postgresCpu = async () => {
    const { rows } = await db.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
    return rows.reduce((sum, r) => {
      try {
        return sum + cpuSeconds(r.pid);
      } catch {
        return sum; // gone meanwhile
      }
    }, 0);
  };
  const replyStates = async () => JSON.stringify((await db.query('SELECT status, failure_reason, count(*)::int AS n FROM replies GROUP BY 1, 2')).rows);

  // Let the sign-in syncs settle before measuring.
  const busyQueues = [QUEUE_NAMES.mailboxSync, QUEUE_NAMES.reply].map((name) => new Queue(name, { connection, prefix: bullPrefix(env.redisPrefix) }));
  for (let i = 0; i < 200; i += 1) {
    const counts = await Promise.all(busyQueues.map((q) => q.getJobCounts('active', 'waiting', 'delayed', 'prioritized')));
    if (counts.every((c) => Object.values(c).every((n) => n === 0))) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await Promise.all(busyQueues.map((q) => q.close()));

  const quotaUnits = async () => {
    let units = 0;
    for (const m of mailboxes) units += ((await (await fetch(`${webUrl}/sandbox/gmail/mailboxes/${encodeURIComponent(m.email)}/quota`)).json()) as { total_units: number }).total_units;
    return units;
  };

  let mailRound = 0;
  const perRound: Array<{ replies: number; repliesPerSecond: number; unitsPerReply: number; webCpuMsPerReply: number; workerCpuMsPerReply: number; postgresCpuMsPerReply: number }> = [];
  const product: Side = {
    label: 'pipeline (jobs)',
    async run(warmup) {
      mailRound += 1;
      const mails = mailboxes.flatMap((m) => m.senders.map((sender) => ({ mailbox: m.email, sender })));
      const unitsBefore = await quotaUnits();
      const repliesBefore = completed.counts.get(QUEUE_NAMES.reply) ?? 0;
      const jobsBefore = completed.total();
      const cpuBefore = { web: cpuSeconds(ctx.web.pid), worker: cpuSeconds(worker.pid), postgres: await postgresCpu() };
      const deliveredAt = new Map<string, number>();
      const started = Date.now();
      await inParallel(mails, 8, async ({ mailbox, sender }) => {
        const res = await fetch(`${webUrl}/sandbox/gmail/mailboxes/${encodeURIComponent(mailbox)}/incoming`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ from: `Sender <${sender}>`, subject: `Order ${mailRound}`, text: `Hello,\n\nwhen will order ${mailRound} arrive? Can you confirm the delivery date?\n\nThanks` }),
        });
        if (res.status !== 201) throw new Error(`delivering a mail answered ${res.status}`);
        deliveredAt.set(((await res.json()) as { id: string }).id, Date.now());
      });
      await completed.until(QUEUE_NAMES.reply, repliesBefore + mails.length, REPLY_TIMEOUT_MS, replyStates);
      const seconds = (Date.now() - started) / 1000;
      const jobs = completed.total() - jobsBefore;
      const cpu = { web: cpuSeconds(ctx.web.pid) - cpuBefore.web, worker: cpuSeconds(worker.pid) - cpuBefore.worker, postgres: (await postgresCpu()) - cpuBefore.postgres };
      const { rows } = await db.query<{ id: string; at: Date }>(
        `SELECT m.gmail_message_id AS id, r.updated_at AS at FROM replies r JOIN message_history m ON m.id = r.source_message_id WHERE r.status = 'sent' AND m.gmail_message_id = ANY($1)`,
        [[...deliveredAt.keys()]],
      );
      if (rows.length !== mails.length) throw new Error(`${mails.length} mails delivered but ${rows.length} replies sent: ${await replyStates()}`);
      const latencies = rows.map((r) => r.at.getTime() - deliveredAt.get(r.id)!);
      if (!warmup) {
        perRound.push({
          replies: rows.length,
          repliesPerSecond: rows.length / seconds,
          unitsPerReply: ((await quotaUnits()) - unitsBefore) / rows.length,
          webCpuMsPerReply: (cpu.web * 1000) / rows.length,
          workerCpuMsPerReply: (cpu.worker * 1000) / rows.length,
          postgresCpuMsPerReply: (cpu.postgres * 1000) / rows.length,
        });
      }
      return { rate: jobs / seconds, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), cpuMs: (cpu.worker * 1000) / jobs, count: jobs, errors: 0 };
    },
  };
  const baseline: Side = {
    label: 'B-jobs',
    async run() {
      const n = settings.baselineJobs;
      const before = baselineCompleted.counts.get(JOBS_QUEUE) ?? 0;
      const cpuBefore = cpuSeconds(jobsWorker.pid);
      const started = Date.now();
      for (let i = 0; i < n; i += 1000) {
        await jobsQueue.addBulk(Array.from({ length: Math.min(1000, n - i) }, (_, k) => ({ name: 'job', data: { userId: `user-${i + k}` } })));
      }
      await baselineCompleted.until(JOBS_QUEUE, before + n, REPLY_TIMEOUT_MS, async () => 'B-jobs');
      const seconds = (Date.now() - started) / 1000;
      const cpu = cpuSeconds(jobsWorker.pid) - cpuBefore;
      const done = await jobsQueue.getJobs(['completed'], 0, n - 1);
      const latencies = done.map((j) => (j.finishedOn ?? 0) - j.timestamp);
      await jobsQueue.obliterate({ force: true });
      return { rate: n / seconds, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), cpuMs: (cpu * 1000) / n, count: n, errors: 0 };
    },
  };

  try {
    const paired = await profiled(ctx, 'pipeline', () => runPaired([product, baseline], settings.rounds, log));
    const [p, b] = paired.sides as [typeof paired.sides[0], typeof paired.sides[0]];
    const repliesPerSecond = median(perRound.map((r) => r.repliesPerSecond));
    const unitsPerReply = median(perRound.map((r) => r.unitsPerReply));
    const cpuPerReply = (pick: (r: (typeof perRound)[number]) => number) => Math.round(median(perRound.map(pick)) * 10) / 10;
    return [
      judged({
        name: 'pipeline: jobs completed per second vs B-jobs',
        value: p.rate,
        baseline: b.rate,
        ratio: paired.ratios[0]!,
        target: 0.15,
        target_applies_to: 'ratio',
        better: 'higher',
        unit: 'jobs/s',
        sides: paired.sides,
        round_ratios: paired.roundRatios.map((r) => r[0]!),
        note:
          `${perRound[0]?.replies ?? 0} mails per round to ${USERS} mailboxes; p50/p99 of the pipeline: delivery to reply sent; of B-jobs: add to completed; ` +
          `CPU per job: the worker process. CPU per reply: worker ${cpuPerReply((r) => r.workerCpuMsPerReply)} ms, web (with the sandbox's Gmail, Pub/Sub and LLM) ${cpuPerReply((r) => r.webCpuMsPerReply)} ms, ` +
          `PostgreSQL backends ${cpuPerReply((r) => r.postgresCpuMsPerReply)} ms; worker concurrency ${config.worker.concurrency}`,
      }),
      judged({ name: 'pipeline: replies per second', value: repliesPerSecond, baseline: null, ratio: null, target: null, target_applies_to: 'value', better: 'higher', unit: 'replies/s' }),
      judged({
        name: 'pipeline: Gmail quota units per reply',
        value: unitsPerReply,
        baseline: UNITS_PER_REPLY,
        ratio: unitsPerReply / UNITS_PER_REPLY,
        target: UNITS_PER_REPLY_MAX,
        target_applies_to: 'value',
        better: 'lower',
        unit: 'units',
        note: `baseline: history.list + messages.get + messages.send = ${UNITS_PER_REPLY}; allowed: + one threads.get = ${UNITS_PER_REPLY_MAX}`,
      }),
    ];
  } finally {
    await Promise.all([completed.close(), baselineCompleted.close(), jobsQueue.close(), db.end()]);
    await jobsWorker.stop();
  }
}
