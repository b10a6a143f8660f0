import {
  AuthenticationError, ClockSkewError, ExchangeError, ExchangeUnavailableError, InsufficientMarginError, InvalidOrderError,
  IpBannedError, RateLimitedError, UnknownOutcomeError,
} from './exchange-errors';

/**
 * What the `binance` package throws (notes/binance.md §7.4): a plain object
 * `{code, message, body, headers, requestUrl, …}` for any HTTP answer outside 2xx
 * (no HTTP status on it), the AxiosError itself for network failures, or a bare
 * string when no request was made. We keep only the fields that decide the
 * mapping; `requestUrl` carries the signed query and is never read or copied.
 */
export interface BinanceFailure {
  /** Binance's numeric error code, when the answer had one. */
  code: number | null;
  /** Binance's `msg`, or the non-JSON body text, trimmed. */
  msg: string | null;
  /** axios' network error code (ECONNABORTED, ECONNRESET, ECONNREFUSED…). */
  networkCode: string | null;
  retryAfterMs: number | null;
  usedWeight1m: number | null;
}

const UNKNOWN_OUTCOME_TEXT = /unknown error, please check your request/i;
const UNAVAILABLE_TEXT = /service unavailable|internal error; unable to process your request/i;

export function describeBinanceFailure(raw: unknown): BinanceFailure {
  const out: BinanceFailure = { code: null, msg: null, networkCode: null, retryAfterMs: null, usedWeight1m: null };
  if (typeof raw === 'string') {
    out.msg = raw.slice(0, 200);
    return out;
  }
  if (!raw || typeof raw !== 'object') return out;
  const o = raw as Record<string, unknown>;
  if (o.isAxiosError === true) {
    out.networkCode = typeof o.code === 'string' ? o.code : 'UNKNOWN';
    if (typeof o.message === 'string' && /timeout/i.test(o.message) && out.networkCode === 'UNKNOWN') out.networkCode = 'ECONNABORTED';
    return out;
  }
  if (typeof o.code === 'number') out.code = o.code;
  if (typeof o.message === 'string') out.msg = o.message.slice(0, 300);
  else if (typeof o.body === 'string') out.msg = o.body.slice(0, 300);
  const headers = o.headers && typeof o.headers === 'object' ? (o.headers as Record<string, unknown>) : {};
  const retryAfter = Number(headers['retry-after']);
  if (Number.isFinite(retryAfter) && retryAfter >= 0) out.retryAfterMs = retryAfter * 1000;
  const weight = Number(headers['x-mbx-used-weight-1m']);
  if (Number.isFinite(weight)) out.usedWeight1m = weight;
  // An Error that is not axios' (e.g. "Private endpoints require api and private keys to be set").
  if (out.code === null && out.msg === null && raw instanceof Error) out.msg = raw.message.slice(0, 200);
  return out;
}

const KEY_HELP = 'Check that the API key and secret were copied correctly, that the key is not deleted, that its IP whitelist includes our server, and that "Enable Futures" is ticked.';

/** Maps anything the `binance` package throws to our closed taxonomy; the message is ours, never Binance's raw text or URL. */
export function mapBinanceError(raw: unknown): ExchangeError {
  if (raw instanceof ExchangeError) return raw;
  const f = describeBinanceFailure(raw);

  if (f.networkCode) {
    switch (f.networkCode) {
      case 'ECONNREFUSED':
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
      case 'EHOSTUNREACH':
      case 'ENETUNREACH':
      case 'ERR_BAD_OPTION':
        return new ExchangeUnavailableError('Binance could not be reached; nothing was sent.');
      default:
        // Timeout, reset or hang-up after the request left: it may have executed.
        return new UnknownOutcomeError('Binance did not answer in time; the request may or may not have been executed.');
    }
  }

  if (f.msg && UNKNOWN_OUTCOME_TEXT.test(f.msg)) {
    return new UnknownOutcomeError('Binance reported an unknown outcome; the request may or may not have been executed.', f.code ?? undefined);
  }
  if (f.msg && UNAVAILABLE_TEXT.test(f.msg)) {
    return new ExchangeUnavailableError('Binance is temporarily unavailable; the request was not executed.', f.code ?? undefined);
  }

  const code = f.code;
  switch (code) {
    case -2015:
      return new AuthenticationError(`Binance rejected the API key (invalid, deleted, IP-restricted or missing permission). ${KEY_HELP}`, code);
    case -2014:
      return new AuthenticationError(`The API key format is invalid. ${KEY_HELP}`, code);
    case -1022:
      return new AuthenticationError('Binance rejected the request signature: the API secret does not belong to this API key. Enter the secret again.', code);
    case -2019:
      return new InsufficientMarginError('Not enough available margin on the Binance futures account for this order.', code);
    case -1021:
      return new ClockSkewError("The request's timestamp was outside Binance's receive window (clock skew).", code);
    case -1003: {
      const retryAfterMs = f.retryAfterMs ?? 60_000;
      if (f.msg && /banned/i.test(f.msg)) {
        return new IpBannedError('Binance banned this server\'s IP for sending too many requests.', retryAfterMs, code);
      }
      return new RateLimitedError('Binance request-weight limit reached for this server\'s IP.', retryAfterMs, code);
    }
    case -1015:
      return new RateLimitedError('Too many new orders on this Binance account.', f.retryAfterMs ?? 10_000, code);
    case -1008:
      return new ExchangeUnavailableError('Binance is throttling requests under load; the request was not executed.', code);
    case -1000:
    case -1006:
    case -1007:
      return new UnknownOutcomeError('Binance reported an unknown outcome; the request may or may not have been executed.', code);
    case -1001:
      return new ExchangeUnavailableError('Binance had an internal error; the request was not executed.', code);
    case -4164:
      return new InvalidOrderError('Order value is below Binance\'s minimum notional for this symbol.', code);
    case -1111:
      return new InvalidOrderError('Order quantity or price has more decimals than the symbol allows.', code);
    case -2022:
      return new InvalidOrderError('Reduce-only order rejected: there is no position in that direction to reduce.', code);
    case -4003:
    case -4005:
    case -1013:
      return new InvalidOrderError('Order quantity is outside the symbol\'s allowed range.', code);
    case -4028:
      return new InvalidOrderError('Leverage value is not allowed for this symbol.', code);
    case -4061:
      return new InvalidOrderError('The account is in hedge mode; switch it to one-way mode on Binance.', code);
    case -4116:
      // An order with this client id exists already: find it, never place another.
      return new UnknownOutcomeError('An order with this client id already exists on Binance.', code);
    case -1121:
      return new InvalidOrderError('Unknown symbol on Binance futures.', code);
    case -4120:
      return new InvalidOrderError('Conditional orders must use Binance\'s algo order endpoint.', code);
    default:
      break;
  }
  if (code !== null) return new InvalidOrderError(`Binance refused the request (code ${code}).`, code);
  // An HTTP error without a JSON body (HTML 502/504 from a proxy): the request may have gone through.
  if (raw && typeof raw === 'object' && 'body' in raw) {
    return new UnknownOutcomeError('Binance answered with an unexpected error page; the request may or may not have been executed.');
  }
  if (raw instanceof Error && /key/i.test(raw.message)) {
    return new AuthenticationError('The API key and secret are both required.');
  }
  return new ExchangeUnavailableError('The Binance request could not be prepared; nothing was sent.');
}

/** Removes every occurrence of the given secrets from a text destined for a log. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join('[redacted]');
  return out.replace(/signature=[0-9a-fA-F]+/g, 'signature=[redacted]');
}
