import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** Clock ticks per second of /proc/<pid>/stat times (almost always 100). */
const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds (user + system, every thread) that a process has used so far. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces: count the fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime, stime (fields 14 and 15)
}

/** Resident set size now and its peak (VmHWM), in bytes. */
export function residentBytes(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

function firstLine(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).split('\n')[0]!.trim();
  } catch (err) {
    const out = (err as { stdout?: string; stderr?: string }).stdout || (err as { stderr?: string }).stderr || '';
    return out.split('\n')[0]?.trim() || 'not found';
  }
}

export interface MachineDescription {
  cpu: string;
  cores: number;
  memory_gib: number;
  kernel: string;
  node: string;
  postgres: string;
  redis: string;
  wrk: string;
  load_average_at_start: number[];
  date: string;
  /** The product measured: commit, and uncommitted changes compiled with it. */
  product: string;
}

export function describeMachine(postgresVersion: string, redisVersion: string, product: string): MachineDescription {
  return {
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores: os.cpus().length,
    memory_gib: Math.round(os.totalmem() / 2 ** 30),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    postgres: postgresVersion,
    redis: redisVersion,
    wrk: firstLine('wrk', ['--version']),
    load_average_at_start: os.loadavg().map((l) => Math.round(l * 100) / 100),
    date: new Date().toISOString(),
    product,
  };
}
