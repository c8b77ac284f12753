import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '../..');
/** Logs and CPU profiles of one run (git-ignored). */
export const OUTPUT_DIR = path.join(REPO_ROOT, 'bench/results');

// The child exits when its stdin pipe closes, i.e. when the bench is gone, however it died.
const EXIT_WITH_PARENT = `data:text/javascript,process.stdin.on('end',()=>process.exit(70));process.stdin.on('error',()=>process.exit(70));process.stdin.resume();`;

export const HAS_TASKSET = spawnSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' }).status === 0;

const alive = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of alive) child.kill('SIGKILL');
});

export interface NodeChild {
  name: string;
  pid: number;
  process: ChildProcess;
  logFile: string;
  /** Resolves with the first IPC message of the given type. */
  message<T>(type: string, timeoutMs?: number): Promise<T>;
  /** Sends an IPC request and waits for the reply of type `${type}:reply`. */
  request<T>(type: string, body: Record<string, unknown>, timeoutMs?: number): Promise<T>;
  /** Resolves once the log file holds a line matching `pattern`. */
  logged(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export interface SpawnOptions {
  name: string;
  /** A compiled .js entry (bench/lib/build.ts); a .ts one runs with tsx's loader in the same process. */
  entry: string;
  env: NodeJS.ProcessEnv;
  args?: string[];
  /** CPU list for taskset (e.g. "0"); all CPUs when absent or when taskset is missing. */
  cpus?: string;
  nodeFlags?: string[];
}

/** Starts a Node.js child (stdout and stderr to bench/results/<name>.log, IPC channel open). */
export function spawnNode(opts: SpawnOptions): NodeChild {
  mkdirSync(OUTPUT_DIR, { recursive: true });
  const logFile = path.join(OUTPUT_DIR, `${opts.name}.log`);
  const fd = openSync(logFile, 'w');
  const loader = opts.entry.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const nodeArgs = [...(opts.nodeFlags ?? []), ...loader, '--import', EXIT_WITH_PARENT, opts.entry, ...(opts.args ?? [])];
  const [cmd, args] = opts.cpus && HAS_TASKSET ? ['taskset', ['-c', opts.cpus, process.execPath, ...nodeArgs]] : [process.execPath, nodeArgs];
  const child = spawn(cmd, args as string[], { cwd: REPO_ROOT, env: opts.env, stdio: ['pipe', fd, fd, 'ipc'] });
  closeSync(fd);
  alive.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => (alive.delete(child), resolve())));

  const message = <T>(type: string, timeoutMs = 60_000) =>
    new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => (child.off('message', onMessage), reject(new Error(`${opts.name}: no "${type}" message within ${timeoutMs} ms (see ${logFile})`))), timeoutMs);
      const onMessage = (msg: { type?: string }) => {
        if (msg?.type !== type) return;
        clearTimeout(timer);
        child.off('message', onMessage);
        resolve(msg as T);
      };
      child.on('message', onMessage);
      child.once('exit', (code) => reject(new Error(`${opts.name} exited (code ${code}); see ${logFile}`)));
    });

  return {
    name: opts.name,
    pid: child.pid!,
    process: child,
    logFile,
    message,
    request<T>(type: string, body: Record<string, unknown>, timeoutMs?: number) {
      const reply = message<T>(`${type}:reply`, timeoutMs);
      child.send({ type, ...body });
      return reply;
    },
    async logged(pattern, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(readFileSync(logFile, 'utf8'))) {
        if (child.exitCode !== null) throw new Error(`${opts.name} exited (code ${child.exitCode}); see ${logFile}`);
        if (Date.now() > deadline) throw new Error(`${opts.name}: no log line ${pattern} within ${timeoutMs} ms (see ${logFile})`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async stop(graceMs = 30_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Lets a running process (every thread) use the given CPUs from now on. */
export function setAffinity(pid: number, cpus: string): void {
  if (HAS_TASKSET) spawnSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
}
