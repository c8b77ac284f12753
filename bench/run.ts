import { spawnSync } from 'node:child_process';
import type { BenchContext, Settings } from './context';
import { buildServers, builtFrom } from './lib/build';
import { spawnNode, type NodeChild } from './lib/children';
import { procfileNodeFlags } from './lib/procfile';
import { createEnvironment, removeEnvironment, serverVersions } from './lib/environment';
import { productEnv } from './lib/product-env';
import { freeLoopbackPort } from '../test/support/free-port';
import { describeMachine } from './lib/proc';
import type { CaseResult } from './lib/results';
import { MemorySampler, memoryResults } from './cases/memory';
import { httpCases } from './cases/http';
import { pipelineCase } from './cases/pipeline';
import { scaleCase } from './cases/scale';
import { writeReport } from './report';

/**
 * `npm run bench`: the product against bare baselines, as paired ratios measured in one run
 * (BENCHMARKS.md). Options: --rounds=N --seconds=N --warmup=N --connections=N --only=case,case
 * --profile=case,case --scale-contacts=N --scale-messages=N --set=NAME=value (a product variable; repeatable)
 */
function settingsFromArgs(argv: string[]): Settings {
  const arg = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  return {
    rounds: Number(arg('rounds') ?? 5),
    seconds: Number(arg('seconds') ?? 5),
    warmupSeconds: Number(arg('warmup') ?? 2),
    connections: Number(arg('connections') ?? 32),
    pipelineMails: 200,
    baselineJobs: 5000,
    scaleContacts: Number(arg('scale-contacts') ?? 100_000),
    scaleMessages: Number(arg('scale-messages') ?? 1_000_000),
    serverCpus: '0',
    loadCpus: '1',
    only: arg('only')?.split(',').filter(Boolean) ?? [],
    profile: arg('profile')?.split(',').filter(Boolean) ?? [],
  };
}

async function main() {
  const settings = settingsFromArgs(process.argv.slice(2));
  if (spawnSync('wrk', ['--version']).error) {
    throw new Error('wrk is not installed: `apt-get install wrk` (Debian) — see BENCHMARKS.md');
  }
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const started = Date.now();
  const compiled = buildServers();
  const env = await createEnvironment();
  log(`database ${env.databaseName}, Redis prefix ${env.redisPrefix}`);
  const children: NodeChild[] = [];
  const memory = new MemorySampler();
  try {
    const versions = await serverVersions(env);
    const machine = describeMachine(versions.postgres, versions.redis, builtFrom);
    const port = await freeLoopbackPort();
    const overrides = process.argv.filter((a) => a.startsWith('--set=')).map((a) => a.slice('--set='.length).split(/=(.*)/s).slice(0, 2) as [string, string]);
    const penv = { ...productEnv(env, port), ...Object.fromEntries(overrides) };
    if (overrides.length) log(`product configuration changed: ${overrides.map(([k, v]) => `${k}=${v}`).join(' ')}`);
    const web = spawnNode({
      name: 'web',
      entry: compiled('bench/product/web.ts'),
      env: penv,
      cpus: settings.serverCpus,
      nodeFlags: procfileNodeFlags('web'),
    });
    children.push(web);
    const { url: webUrl } = await web.message<{ url: string }>('ready');
    const baseline = spawnNode({
      name: 'baseline',
      entry: compiled('bench/baselines/server.ts'),
      env: { PATH: process.env.PATH, DATABASE_URL: env.databaseUrl, DATABASE_POOL_MAX: '10', BULL_PREFIX: `${env.redisPrefix}:baseline` },
      cpus: settings.serverCpus,
    });
    children.push(baseline);
    const { port: baselinePort } = await baseline.message<{ port: number }>('ready');
    memory.watch('web', web.pid);

    const ctx: BenchContext = { settings, env, web, webUrl, baseline, baselineUrl: `http://127.0.0.1:${baselinePort}`, compiled, productEnv: penv, log };
    const results: CaseResult[] = [];
    results.push(...(await httpCases(ctx, memory)));
    results.push(...(await pipelineCase(ctx, memory, children)));
    results.push(...(await scaleCase(ctx, memory)));
    const heap = await web.request<{ before: NodeJS.MemoryUsage; afterGc: NodeJS.MemoryUsage }>('memory-usage', {});
    const mb = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MB`;
    results.push(
      ...memoryResults(memory, {
        web: `at the end, V8 heap ${mb(heap.before.heapUsed)} used of ${mb(heap.before.heapTotal)}, live after a full collection ${mb(heap.afterGc.heapUsed)}`,
      }),
    );
    memory.stop();

    const minutes = (Date.now() - started) / 60_000;
    writeReport({ machine, settings, results, minutes, log });
  } finally {
    memory.stop();
    for (const child of children.reverse()) await child.stop();
    await removeEnvironment(env);
  }
}

void main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
