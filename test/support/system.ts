import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/observability/logger';
import { startSystem, type RunningSystem } from '../../src/main/system';
import { testConfig } from './config';

export interface TestSystem extends RunningSystem {
  baseUrl: string;
  logLines: string[];
}

/**
 * Starts the real system (web + worker + sandbox) on 127.0.0.1 with a free port, against the run's
 * database and its own Redis prefix. Every log line is captured for tests that inspect logs.
 */
export async function startTestSystem(opts: { overrides?: Record<string, string>; web?: boolean; worker?: boolean } = {}): Promise<TestSystem> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  const config = testConfig(baseUrl, { LOG_LEVEL: 'info', ...opts.overrides });
  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(chunk.toString('utf8'));
      if (process.env.TEST_LOG_LEVEL) process.stderr.write(chunk);
      done();
    },
  });
  const logger = createLogger({ level: config.logLevel, pretty: false, destination: sink });
  const system = await startSystem({ config, logger, web: opts.web ?? true, worker: opts.worker ?? true, server });
  return Object.assign(system, { baseUrl, logLines });
}
