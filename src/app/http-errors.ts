import { randomUUID } from 'node:crypto';
import type { ErrorRequestHandler } from 'express';
import type { Logger } from 'pino';

/** What body-parser's client errors mean, in words that name no file, module or stack frame. */
const CLIENT_MESSAGES: Record<string, string> = {
  'entity.parse.failed': 'The request body is not valid JSON',
  'entity.too.large': 'The request body is too large',
  'encoding.unsupported': 'The request body has an unsupported content encoding',
  'charset.unsupported': 'The request body has an unsupported charset',
  'request.aborted': 'The request was aborted',
  'request.size.invalid': 'The request body does not match its declared length',
};

/**
 * The last handler of the Express app. Express's own prints the error's
 * stack, with file paths, as an HTML page whenever NODE_ENV is not
 * production: here every environment answers a small JSON error shaped like
 * a GraphQL one, and anything unexpected is logged under an id.
 */
export function jsonErrorHandler(logger: Logger): ErrorRequestHandler {
  return (err, _req, res, next) => {
    if (res.headersSent) return next(err);
    const e = err as { status?: number; statusCode?: number; type?: string };
    const status = e.status ?? e.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      const message = (e.type && CLIENT_MESSAGES[e.type]) || 'Bad request';
      res.status(status).json({ errors: [{ message, extensions: { code: 'BAD_USER_INPUT' } }] });
      return;
    }
    const errorId = randomUUID();
    logger.error({ errorId, err }, 'unhandled error in HTTP request');
    res.status(500).json({ errors: [{ message: `Internal server error (id ${errorId})`, extensions: { code: 'INTERNAL_SERVER_ERROR', errorId } }] });
  };
}
