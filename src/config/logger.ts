import pino, { type Logger } from 'pino';

/** Paths pino blanks wherever they appear in a log object. */
export const REDACT_PATHS = [
  'password', '*.password', 'newPassword', '*.newPassword', 'currentPassword', '*.currentPassword',
  'apiKey', '*.apiKey', 'apiSecret', '*.apiSecret', 'api_key', 'api_secret', '*.api_key', '*.api_secret',
  'secret', '*.secret', 'token', '*.token', 'refreshToken', '*.refreshToken', 'accessToken', '*.accessToken',
  'authorization', '*.authorization', 'headers.authorization', 'req.headers.authorization',
  'headers["x-mbx-apikey"]', '*.headers["x-mbx-apikey"]', 'requestUrl', '*.requestUrl',
  'signature', '*.signature', 'masterKey', 'jwtSecret', 'secrets', '*.secrets',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: { service: 'btc-saas' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
