import { ConfigError, loadConfig, type Config } from '../config';
import { createLogger, type Logger } from '../observability/logger';

/** Reads the configuration once; a bad value ends the process with a message naming the variable. */
export function configOrExit(env: NodeJS.ProcessEnv = process.env): Config {
  try {
    const config = loadConfig(env);
    // Google's libraries probe the cloud metadata server (outside loopback) when they look for
    // credentials; with the sandbox every credential is explicit and nothing may leave the machine.
    if (config.sandboxEnabled) process.env.METADATA_SERVER_DETECTION ??= 'none';
    return config;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
}

export function processLogger(config: Config, name: string): Logger {
  return createLogger({ level: config.logLevel, pretty: config.logPretty, name });
}

/** Stops cleanly on SIGTERM/SIGINT: stop taking work, finish what runs (bounded), close connections. */
export function closeOnSignals(logger: Logger, close: () => Promise<void>, timeoutMs = 25_000): void {
  let closing = false;
  const stop = (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error({ timeoutMs }, 'shutdown timed out');
      process.exit(1);
    }, timeoutMs);
    timer.unref();
    close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
