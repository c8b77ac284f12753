import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { freeLoopbackPort, waitForPort } from '../support/free-port';

/**
 * Google's Pub/Sub emulator (Debian package google-cloud-cli-pubsub-emulator, needs Java), started
 * on a free loopback port in a process group of its own so that stopping it stops its JVM too.
 */

const CANDIDATES = [
  process.env.PUBSUB_EMULATOR_BIN,
  '/usr/lib/google-cloud-sdk/platform/pubsub-emulator/bin/cloud-pubsub-emulator',
  '/usr/share/google-cloud-sdk/platform/pubsub-emulator/bin/cloud-pubsub-emulator',
  '/opt/google-cloud-sdk/platform/pubsub-emulator/bin/cloud-pubsub-emulator',
];

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => dir && executable(path.join(dir, command)));
}

/** The emulator's start script, or why it cannot run here. */
export function findEmulator(): { bin: string } | { missing: string } {
  const bin = CANDIDATES.find((c): c is string => Boolean(c) && executable(c!));
  if (!bin) return { missing: `Google's Pub/Sub emulator is not installed (looked for ${CANDIDATES.filter(Boolean).join(', ')})` };
  if (!onPath('java') && !process.env.JAVA_HOME) return { missing: "Google's Pub/Sub emulator is installed but Java is not" };
  return { bin };
}

export interface RunningEmulator {
  port: number;
  stop(): Promise<void>;
}

export async function startEmulator(bin: string, startTimeoutMs = 60_000): Promise<RunningEmulator> {
  const port = await freeLoopbackPort();
  const child: ChildProcess = spawn(bin, ['--host=127.0.0.1', `--port=${port}`], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => void (output = (output + chunk.toString('utf8')).slice(-4000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // already gone
    }
  };
  // If the test run dies before stop(), the JVM must not outlive it.
  const onExit = () => killGroup('SIGKILL');
  process.once('exit', onExit);

  const stop = async () => {
    process.off('exit', onExit);
    if (child.exitCode !== null || child.signalCode !== null) return;
    killGroup('SIGTERM');
    const timer = setTimeout(() => killGroup('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };

  try {
    await Promise.race([
      waitForPort(port, startTimeoutMs, "Google's Pub/Sub emulator"),
      exited.then(() => {
        throw new Error(`the emulator exited at start: ${output.slice(-500)}`);
      }),
    ]);
  } catch (err) {
    await stop();
    throw err;
  }
  return { port, stop };
}
