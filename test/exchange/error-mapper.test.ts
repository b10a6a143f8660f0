import { mapBinanceError } from '../../src/engine/exchange/error-mapper';
import {
  AuthenticationError, ClockSkewError, ExchangeUnavailableError, InsufficientMarginError, InvalidOrderError, IpBannedError,
  RateLimitedError, UnknownOutcomeError,
} from '../../src/engine/exchange/exchange-errors';

// The shapes `binance` 3.6.5 throws (notes/binance.md §7.4): plain objects without an HTTP status, AxiosErrors, strings.
const plain = (code: number | undefined, msg: string | undefined, headers: Record<string, string> = {}, body: unknown = { code, msg }) =>
  ({ code, message: msg, body, headers, requestUrl: 'https://x/fapi/v1/order?quantity=1&signature=abcdef', requestOptions: {} });

describe('mapBinanceError', () => {
  it.each([
    [plain(-2015, 'Invalid API-key, IP, or permissions for action, request ip: 1.2.3.4'), AuthenticationError],
    [plain(-2014, 'API-key format invalid.'), AuthenticationError],
    [plain(-1022, 'Signature for this request is not valid.'), AuthenticationError],
    [plain(-2019, 'Margin is insufficient.'), InsufficientMarginError],
    [plain(-4164, "Order's notional must be no smaller than 100"), InvalidOrderError],
    [plain(-1111, 'Precision is over the maximum defined for this asset.'), InvalidOrderError],
    [plain(-2022, 'ReduceOnly Order is rejected.'), InvalidOrderError],
    [plain(-4003, 'Quantity less than or equal to zero.'), InvalidOrderError],
    [plain(-1021, 'Timestamp for this request is outside of the recvWindow.'), ClockSkewError],
    [plain(-1008, 'Request throttled by system-level protection.'), ExchangeUnavailableError],
    [plain(-1000, 'Unknown error, please check your request or try again later.'), UnknownOutcomeError],
    [plain(-1001, 'Service Unavailable.'), ExchangeUnavailableError],
    [plain(undefined, undefined, {}, '<html>502 Bad Gateway</html>'), UnknownOutcomeError],
    [{ isAxiosError: true, code: 'ECONNABORTED', message: 'timeout of 300ms exceeded', config: { headers: { 'X-MBX-APIKEY': 'k' } } }, UnknownOutcomeError],
    [{ isAxiosError: true, code: 'ECONNRESET', message: 'socket hang up' }, UnknownOutcomeError],
    [{ isAxiosError: true, code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' }, ExchangeUnavailableError],
    ['Request failed before it was sent', ExchangeUnavailableError],
  ])('maps %# to the right class', (raw, cls) => {
    const err = mapBinanceError(raw);
    expect(err).toBeInstanceOf(cls);
    expect(err.message).not.toMatch(/signature=|1\.2\.3\.4|https?:/);
  });

  it('tells a 418 ban from a 429 and keeps Retry-After', () => {
    const ban = mapBinanceError(plain(-1003, 'Way too many requests; IP(1.2.3.4) banned until 1700000000000.', { 'retry-after': '120' }));
    expect(ban).toBeInstanceOf(IpBannedError);
    expect((ban as IpBannedError).retryAfterMs).toBe(120_000);
    const limited = mapBinanceError(plain(-1003, 'Too many requests; current limit of IP(1.2.3.4) is 2400 requests per minute.', { 'retry-after': '7' }));
    expect(limited).toBeInstanceOf(RateLimitedError);
    expect((limited as RateLimitedError).retryAfterMs).toBe(7_000);
  });
});
