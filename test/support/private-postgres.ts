import { execFile, execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { freeLoopbackPort } from './free-port';

const run = promisify(execFile);

/** Every private cluster still up in this process, stopped and removed at exit whatever happened. */
const alive = new Set<PrivatePostgres>();
process.on('exit', () => {
  for (const pg of alive) pg.destroySync();
});

/** Binaries of the newest PostgreSQL installed the Debian way (/usr/lib/postgresql/<major>/bin). */
function binDir(): string {
  const root = '/usr/lib/postgresql';
  const majors = readdirSync(root).filter((d) => /^\d+$/.test(d)).sort((a, b) => Number(b) - Number(a));
  if (majors.length === 0) throw new Error(`no PostgreSQL under ${root}`);
  return path.join(root, majors[0]!, 'bin');
}

const isRoot = () => process.getuid?.() === 0;

/** initdb and postgres refuse to run as root: as root, run them as the postgres user. */
function asOwner(binary: string, args: string[]): [string, string[]] {
  return isRoot() ? ['runuser', ['-u', 'postgres', '--', binary, ...args]] : [binary, args];
}

function postgresUid(): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  return { uid, gid };
}

/**
 * A PostgreSQL cluster of this test alone, in a temporary directory, on a free loopback port, so
 * that a test can stop and restart a real server without touching the machine's shared one (which
 * other test runs use at the same time). Stop and start keep the port and the data.
 */
export class PrivatePostgres {
  private readonly bin = binDir();
  private up = false;

  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  static async start(): Promise<PrivatePostgres> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ga-test-pg-'));
    if (isRoot()) {
      const { uid, gid } = postgresUid();
      chownSync(dir, uid, gid);
    }
    const pg = new PrivatePostgres(dir, await freeLoopbackPort());
    alive.add(pg);
    try {
      const [cmd, args] = asOwner(path.join(pg.bin, 'initdb'), ['-D', pg.dataDir, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--no-sync']);
      await run(cmd, args);
      await pg.start();
    } catch (err) {
      pg.destroySync();
      throw err;
    }
    return pg;
  }

  private get dataDir(): string {
    return path.join(this.dir, 'data');
  }

  get adminUrl(): string {
    return this.urlOf('postgres');
  }

  urlOf(database: string): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  async createDatabase(name: string): Promise<string> {
    const admin = new Client({ connectionString: this.adminUrl });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE "${name}"`);
    } finally {
      await admin.end();
    }
    return this.urlOf(name);
  }

  async start(): Promise<void> {
    if (this.up) return;
    // fsync off: the tests crash the server, never the machine, so what reached the OS survives.
    // synchronous_commit stays on: with it off, a crash loses commits that clients were told about.
    const options = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=200`;
    const [cmd, args] = asOwner(path.join(this.bin, 'pg_ctl'), ['-D', this.dataDir, '-l', path.join(this.dir, 'server.log'), '-o', options, '-w', '-t', '60', 'start']);
    await run(cmd, args);
    this.up = true;
  }

  /**
   * Stops the server. 'immediate' is a crash (no checkpoint, recovery at the next start), 'fast'
   * a clean shutdown that still cuts every client off.
   */
  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    if (!this.up) return;
    const [cmd, args] = asOwner(path.join(this.bin, 'pg_ctl'), ['-D', this.dataDir, '-m', mode, '-w', '-t', '60', 'stop']);
    await run(cmd, args);
    this.up = false;
  }

  async restart(mode: 'fast' | 'immediate' = 'immediate', downMs = 0): Promise<void> {
    await this.stop(mode);
    if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
    await this.start();
  }

  /** Stops the server and removes its directory. */
  async destroy(): Promise<void> {
    await this.stop('immediate').catch(() => undefined);
    this.destroySync();
  }

  destroySync(): void {
    if (this.up) {
      try {
        const [cmd, args] = asOwner(path.join(this.bin, 'pg_ctl'), ['-D', this.dataDir, '-m', 'immediate', '-w', 'stop']);
        execFileSync(cmd, args, { stdio: 'ignore' });
      } catch {
        // already gone
      }
      this.up = false;
    }
    rmSync(this.dir, { recursive: true, force: true });
    alive.delete(this);
  }
}
