/**
 * Our closed taxonomy for everything an exchange call can throw. The engine
 * decides by `action`, never by message text:
 * - `retry`: transient and safe to repeat (nothing was executed);
 * - `skip_user`: this user's key, margin or order is the problem: record and move on;
 * - `stop`: the whole venue must pause (IP ban, rate limit);
 * - `reconcile`: the request may have executed: query by client order id before anything else.
 * Messages are in words a user can act on and never contain a key, secret or signed URL.
 */
export type ExchangeErrorAction = 'retry' | 'skip_user' | 'stop' | 'reconcile';

export abstract class ExchangeError extends Error {
  abstract readonly kind: string;
  abstract readonly action: ExchangeErrorAction;
  constructor(
    message: string,
    /** Binance's numeric code when there was one. */
    readonly exchangeCode?: number,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class AuthenticationError extends ExchangeError {
  readonly kind = 'authentication';
  readonly action = 'skip_user';
}

export class InsufficientMarginError extends ExchangeError {
  readonly kind = 'insufficient_margin';
  readonly action = 'skip_user';
}

export class InvalidOrderError extends ExchangeError {
  readonly kind = 'invalid_order';
  readonly action = 'skip_user';
}

export class RateLimitedError extends ExchangeError {
  readonly kind = 'rate_limited';
  readonly action = 'stop';
  constructor(message: string, readonly retryAfterMs: number, exchangeCode?: number) {
    super(message, exchangeCode);
  }
}

export class IpBannedError extends ExchangeError {
  readonly kind = 'ip_banned';
  readonly action = 'stop';
  constructor(message: string, readonly retryAfterMs: number, exchangeCode?: number) {
    super(message, exchangeCode);
  }
}

export class ClockSkewError extends ExchangeError {
  readonly kind = 'clock_skew';
  readonly action = 'retry';
}

/** Sent, but no answer we can trust (timeout, 5xx "unknown", reset after sending). */
export class UnknownOutcomeError extends ExchangeError {
  readonly kind = 'unknown_outcome';
  readonly action = 'reconcile';
}

/** Not executed: the venue is down or refused before acting (connection refused, 503 "Service Unavailable"). */
export class ExchangeUnavailableError extends ExchangeError {
  readonly kind = 'unavailable';
  readonly action = 'retry';
}

export const isExchangeError = (err: unknown): err is ExchangeError => err instanceof ExchangeError;
