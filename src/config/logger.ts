import { hostname } from 'node:os';
import pino, { type Logger } from 'pino';
import { logContext } from './log-context';

/** Paths pino blanks wherever they appear in a log object. */
export const REDACT_PATHS = [
  'password', '*.password', 'newPassword', '*.newPassword', 'currentPassword', '*.currentPassword',
  'apiKey', '*.apiKey', 'apiSecret', '*.apiSecret', 'api_key', 'api_secret', '*.api_key', '*.api_secret',
  'secret', '*.secret', 'token', '*.token', 'refreshToken', '*.refreshToken', 'accessToken', '*.accessToken',
  'authorization', '*.authorization', 'headers.authorization', 'req.headers.authorization',
  'headers["x-mbx-apikey"]', '*.headers["x-mbx-apikey"]', 'requestUrl', '*.requestUrl',
  'signature', '*.signature', 'masterKey', 'jwtSecret', 'secrets', '*.secrets',
];

export interface LoggerOptions {
  /** Human-readable lines (pino-pretty, a development dependency) instead of JSON. */
  pretty?: boolean;
}

/**
 * JSON lines with hostname, pid and, inside a request or socket operation,
 * its request id. `pretty` is for a developer's terminal: pino-pretty is a
 * development dependency, so a production install never loads it, and where
 * it is missing the logs stay JSON.
 */
export function createLogger(level: string, destination?: pino.DestinationStream, options: LoggerOptions = {}): Logger {
  const pinoOptions: pino.LoggerOptions = {
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { service: 'btc-saas', hostname: hostname(), pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    mixin: () => ({ ...logContext.getStore() }),
  };
  if (options.pretty) {
    const pretty = loadPrettyPrinter();
    if (pretty) return pino(pinoOptions, pretty({ colorize: !destination, sync: true, ignore: 'service', destination: destination ?? 1 }));
  }
  return pino(pinoOptions, destination);
}

type PrettyFactory = (options: Record<string, unknown>) => pino.DestinationStream;

function loadPrettyPrinter(): PrettyFactory | null {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('pino-pretty') as PrettyFactory;
  } catch {
    return null;
  }
}
