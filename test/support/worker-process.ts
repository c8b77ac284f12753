import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { TEST_SECRETS } from './config';

const REPO_ROOT = path.resolve(__dirname, '../..');
const WORKER_ENTRY = path.join(REPO_ROOT, 'src/main/worker.ts');
/** The web entry, for tests that need the web as a process of its own (signals, shutdown). */
export const WEB_ENTRY = path.join(REPO_ROOT, 'src/main/web.ts');
/** Kept so that a failing test can show what the worker said last. */
const OUTPUT_LINES_KEPT = 400;
const START_TIMEOUT_MS = 30_000;

// The child exits when its stdin pipe closes, i.e. when this test process is gone, however it died.
const EXIT_WITH_PARENT = `data:text/javascript,process.stdin.on('end',()=>process.exit(70));process.stdin.on('error',()=>process.exit(70));process.stdin.resume();`;

/** Every worker child alive in this process, killed at exit whatever happened. */
const alive = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of alive) child.kill('SIGKILL');
});

export interface WorkerEnvInput {
  /** Where the in-process web + sandbox listens (the worker's Gmail, OAuth and LLM URLs derive from it). */
  publicUrl: string;
  databaseUrl: string;
  redisUrl: string;
  redisPrefix: string;
  /** Any other configuration variable (WORKER_LOCK_MS, RECONCILE_INTERVAL_SECONDS, ...). */
  overrides?: Record<string, string>;
}

/** The environment of a worker that shares the test's database, Redis prefix, secrets and sandbox. */
export function workerEnv(input: WorkerEnvInput): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TMPDIR: process.env.TMPDIR,
    NODE_ENV: 'test',
    PORT: new URL(input.publicUrl).port,
    PUBLIC_URL: input.publicUrl,
    DATABASE_URL: input.databaseUrl,
    DATABASE_POOL_MAX: '5',
    REDIS_URL: input.redisUrl,
    REDIS_PREFIX: input.redisPrefix,
    GOOGLE_CLIENT_ID: '',
    // Nothing may leave loopback: no probe of the cloud metadata server.
    METADATA_SERVER_DETECTION: 'none',
    NO_GCE_CHECK: 'true',
    // info or lower: start() waits for the worker's "started" line.
    LOG_LEVEL: process.env.TEST_WORKER_LOG_LEVEL ?? 'info',
    LOG_PRETTY: 'false',
    // Each worker's side listener (/metrics, /livez, /readyz) on a free loopback port of its own.
    WORKER_METRICS_PORT: '0',
    WORKER_METRICS_HOST: '127.0.0.1',
    ...TEST_SECRETS,
    ...input.overrides,
  };
}

/**
 * The real worker entry (src/main/worker.ts, through tsx) as a child process that a test can
 * start, SIGKILL and start again. Its output is kept (and echoed with TEST_WORKER_ECHO=1).
 */
export class WorkerProcess {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private readonly lines: string[] = [];
  private starts = 0;
  /** How the last run ended (null while none has ended). */
  lastExit: { code: number | null; signal: NodeJS.Signals | null } | null = null;

  constructor(
    readonly name: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly entry: string = WORKER_ENTRY,
  ) {}

  get running(): boolean {
    return this.child !== null;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the worker and resolves once it logged that it started. */
  async start(): Promise<void> {
    if (this.child) throw new Error(`worker ${this.name} is already running`);
    this.starts += 1;
    const run = this.starts;
    const child = spawn(process.execPath, ['--import', 'tsx', '--import', EXIT_WITH_PARENT, this.entry], {
      cwd: REPO_ROOT,
      env: this.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child = child;
    alive.add(child);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        alive.delete(child);
        if (this.child === child) this.child = null;
        this.lastExit = { code, signal };
        this.note(`[run ${run}] exited (code ${code}, signal ${signal})`);
        resolve();
      });
    });
    let started!: () => void;
    let failed!: (err: Error) => void;
    const ready = new Promise<void>((resolve, reject) => {
      started = resolve;
      failed = reject;
    });
    const collect = (stream: NodeJS.ReadableStream | null) => {
      let partial = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        const parts = (partial + chunk).split('\n');
        partial = parts.pop() ?? '';
        for (const line of parts) {
          this.note(`[run ${run}] ${line}`);
          if (/"msg":"started"/.test(line)) started();
        }
      });
    };
    collect(child.stdout);
    collect(child.stderr);
    void this.exited.then(() => failed(new Error(`worker ${this.name} exited before it started:\n${this.output(40)}`)));
    const timer = setTimeout(() => failed(new Error(`worker ${this.name} did not start within ${START_TIMEOUT_MS} ms:\n${this.output(40)}`)), START_TIMEOUT_MS);
    try {
      await ready;
    } catch (err) {
      await this.kill();
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGKILL: no shutdown code runs, locks stay held until they expire. Resolves once it is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill('SIGKILL');
    await this.exited;
  }

  async restart(): Promise<void> {
    await this.kill();
    await this.start();
  }

  /** Graceful stop (SIGTERM), SIGKILL if it takes too long. */
  async stop(graceMs = 10_000): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** The last lines the worker wrote (stdout and stderr, across its runs). */
  output(last = 80): string {
    return this.lines.slice(-last).join('\n');
  }

  private note(line: string): void {
    this.lines.push(line);
    if (this.lines.length > OUTPUT_LINES_KEPT) this.lines.shift();
    if (process.env.TEST_WORKER_ECHO) process.stderr.write(`${this.name} ${line}\n`);
  }
}
