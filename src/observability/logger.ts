import pino from 'pino';

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

export interface LoggerOptions {
  level: string;
  pretty: boolean;
  name?: string;
  destination?: pino.DestinationStream;
}

export function createLogger(opts: LoggerOptions): Logger {
  const options: pino.LoggerOptions = {
    level: opts.level,
    name: opts.name,
    base: { pid: process.pid },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (opts.destination) return pino(options, opts.destination);
  if (opts.pretty) {
    return pino({ ...options, transport: { target: 'pino-pretty', options: { colorize: true, singleLine: true, translateTime: 'SYS:HH:MM:ss.l' } } });
  }
  return pino(options);
}
