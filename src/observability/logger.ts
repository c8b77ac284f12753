import pino from 'pino';
import { currentLogContext } from './log-context';

export type Logger = pino.Logger;

/**
 * Paths whose values never reach a log line, wherever a caller puts them. Callers log ids and
 * counts, not content; this list is the safety net for tokens, cookies and message bodies.
 */
export const REDACTED_PATHS = [
  'password',
  'token',
  'accessToken',
  'refreshToken',
  'access_token',
  'refresh_token',
  'id_token',
  'authorization',
  'cookie',
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.token',
  '*.accessToken',
  '*.refreshToken',
  '*.access_token',
  '*.refresh_token',
  '*.authorization',
  '*.cookie',
  '*.email',
  '*.text',
  '*.subject',
  '*.raw',
  'email',
  'text',
  'subject',
  'raw',
];

/** The field names that REDACTED_PATHS hides at any level (for flat objects checked without pino). */
export const REDACTED_FIELD_NAMES: ReadonlySet<string> = new Set(REDACTED_PATHS.filter((p) => !p.includes('[')).map((p) => p.split('.').pop()!));

export interface LoggerOptions {
  level: string;
  pretty: boolean;
  name?: string;
  destination?: pino.DestinationStream;
}

/**
 * JSON lines (or, with `pretty`, one human-readable line per entry) carrying the request id or the
 * job id of the work in progress (see log-context.ts) on every line.
 */
export function createLogger(opts: LoggerOptions): Logger {
  const options: pino.LoggerOptions = {
    level: opts.level,
    name: opts.name,
    base: { pid: process.pid },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    // A copy: pino merges each line's fields into the object that mixin returns.
    mixin: () => ({ ...currentLogContext() }),
  };
  if (opts.pretty) {
    const pretty = prettyStream(opts.destination);
    if (pretty) return pino(options, pretty);
  }
  return opts.destination ? pino(options, opts.destination) : pino(options);
}

/**
 * pino-pretty in this thread, for development. It is a development dependency: where it is not
 * installed (a production install), the logs stay JSON.
 */
function prettyStream(destination: pino.DestinationStream | undefined): pino.DestinationStream | undefined {
  let build: (options: Record<string, unknown>) => pino.DestinationStream;
  try {
    build = require('pino-pretty') as typeof build;
  } catch {
    process.stderr.write('LOG_PRETTY=true but pino-pretty is not installed: writing JSON logs\n');
    return undefined;
  }
  return build({ colorize: destination === undefined && process.stdout.isTTY === true, singleLine: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid', destination: destination ?? 1, sync: true });
}
