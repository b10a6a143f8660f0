import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { AppConfig } from '../config/app-config';
import { logContext } from '../config/log-context';

/**
 * A request id per HTTP request: answered in `X-Request-Id` and carried by
 * every log line written while handling the request (pino mixin), ending with
 * one access line.
 */
export function withRequestId(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const reqId = randomUUID();
    const started = process.hrtime.bigint();
    res.setHeader('x-request-id', reqId);
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      logger.info({ reqId, method: req.method, path: req.path, status: res.statusCode, ms: Math.round(ms) }, 'request');
    });
    logContext.run({ reqId }, next);
  };
}

/**
 * /metrics: with METRICS_TOKEN set, only `Authorization: Bearer <token>`;
 * without it, open in development and off (404) in production, where the
 * figures (users, traffic, leadership) are nobody's business but the operator's.
 */
export function metricsGuard(config: Pick<AppConfig, 'METRICS_TOKEN' | 'production'>, logger: Logger): RequestHandler {
  if (!config.METRICS_TOKEN) {
    if (config.production) logger.warn('METRICS_TOKEN is not set: /metrics is off');
    return (_req, res, next) => (config.production ? res.status(404).end() : next());
  }
  const expected = digest(config.METRICS_TOKEN);
  return (req, res, next) => {
    const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    // Digests of equal length: the comparison takes the same time whatever was sent.
    if (match && timingSafeEqual(digest(match[1]), expected)) return next();
    res.status(401).set('www-authenticate', 'Bearer').end();
  };
}

const digest = (value: string) => createHash('sha256').update(value).digest();
