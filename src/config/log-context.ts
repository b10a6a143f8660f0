import { AsyncLocalStorage } from 'node:async_hooks';

/** Fields every log line written while handling one request or socket operation carries (its request id). */
export interface LogContext {
  reqId: string;
  connId?: string;
}

export const logContext = new AsyncLocalStorage<LogContext>();
