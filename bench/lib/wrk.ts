import { spawn } from 'node:child_process';
import path from 'node:path';
import { HAS_TASKSET, REPO_ROOT } from './children';

export interface WrkRequest {
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  /** "{run}-{n}" becomes unique to each request of every run ({run} here, {n} in bench/load.lua). */
  body?: string;
  /** File of bearer tokens used in turn. */
  tokensFile?: string;
}

export interface WrkResult {
  requests: number;
  seconds: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Socket errors, timeouts and non-2xx/3xx answers. */
  errors: number;
}

export interface WrkLoad {
  connections: number;
  seconds: number;
  /** CPU list the load generator is pinned to (taskset), e.g. "1". */
  cpus?: string;
}

let runs = 0;

/** One wrk run (one thread, so it stays on its core); its report comes from bench/load.lua. */
export function runWrk(req: WrkRequest, load: WrkLoad): Promise<WrkResult> {
  const args = ['-t1', `-c${load.connections}`, `-d${load.seconds}s`, '--timeout', '10s', '-s', path.join(REPO_ROOT, 'bench/load.lua')];
  for (const [name, value] of Object.entries(req.headers ?? {})) args.push('-H', `${name}: ${value}`);
  args.push(req.url);
  const [cmd, cmdArgs] = load.cpus && HAS_TASKSET ? ['taskset', ['-c', load.cpus, 'wrk', ...args]] : ['wrk', args];
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, BENCH_METHOD: req.method ?? 'GET' };
  if (req.body !== undefined) env.BENCH_BODY = req.body.replaceAll('{run}', `${process.pid}x${(runs += 1)}`);
  if (req.tokensFile) env.BENCH_TOKENS = req.tokensFile;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, cmdArgs as string[], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('{"requests"'));
      if (code !== 0 || !line) return reject(new Error(`wrk failed (code ${code}): ${err || out}`));
      const r = JSON.parse(line) as Record<string, number>;
      const seconds = r.duration_us! / 1e6;
      resolve({
        requests: r.requests!,
        seconds,
        rps: r.requests! / seconds,
        p50Ms: r.p50_us! / 1000,
        p99Ms: r.p99_us! / 1000,
        errors: r.connect_errors! + r.read_errors! + r.write_errors! + r.timeouts! + r.non_2xx!,
      });
    });
  });
}
