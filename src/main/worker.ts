import { configOrExit, closeOnSignals, processLogger } from './run';
import { startSystem } from './system';

async function main() {
  const config = configOrExit();
  const logger = processLogger(config, 'worker');
  const system = await startSystem({ config, logger, web: false, worker: true });
  closeOnSignals(logger, () => system.close(), config.operations.shutdownTimeoutMs);
}

void main().catch((err: unknown) => {
  process.stderr.write(`worker failed to start: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
