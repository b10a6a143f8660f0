import Decimal from 'decimal.js';
import {
  ClockSkewError,
  ExchangeUnavailableError,
  InsufficientMarginError,
  IpBannedError,
  RateLimitedError,
  UnknownOutcomeError,
} from '../../src/engine/exchange/exchange-errors';
import type { MarketOrderRequest } from '../../src/engine/exchange/exchange-gateway';
import { OrderPlacer, type PlacementEnvironment, type PlacementOutcome, type PlacementPolicy } from '../../src/engine/execution/order-placement';
import { FakeGateway, type LookupScript, type SendScript } from './support/fake-gateway';
import { VirtualClock } from './support/virtual-clock';

const REQUEST: MarketOrderRequest = {
  symbol: 'BTCUSDT',
  side: 'BUY',
  quantity: new Decimal('0.061'),
  clientOrderId: 'x-15PC4ZJyMLPssdhIGgKR989h2RrTdCU0TG',
  reduceOnly: false,
};

const unknown = () => new UnknownOutcomeError('Binance did not confirm the order in time');
const unavailable = () => new ExchangeUnavailableError('Binance is unavailable right now');

type EnvFor = (clock: VirtualClock) => Partial<PlacementEnvironment>;

function setup(sends: SendScript[], lookups: LookupScript[] = [], env: EnvFor = () => ({}), policy: Partial<PlacementPolicy> = {}) {
  const clock = new VirtualClock();
  const t0 = clock.now();
  const gateway = new FakeGateway(clock, sends, lookups);
  // random = 1: full backoff, so delays are exact.
  const placer = new OrderPlacer({ clock, random: () => 1, ...env(clock) }, policy);
  const place = (deadlineInMs = 20_000): Promise<PlacementOutcome> => clock.run(placer.place(gateway, REQUEST, t0 + deadlineInMs));
  const timeline = () => gateway.calls.map((c) => `${c.method}@${c.at - t0}`);
  return { clock, t0, gateway, placer, place, timeline };
}

describe('OrderPlacer', () => {
  it('places the order and returns the fill', async () => {
    const { place, gateway } = setup([{ fill: true, latencyMs: 120 }]);
    const outcome = await place();
    expect(outcome).toMatchObject({ status: 'PLACED', adopted: false, sends: 1 });
    if (outcome.status !== 'PLACED') throw new Error('unreachable');
    expect(outcome.order.status).toBe('FILLED');
    expect(outcome.order.avgPrice?.toFixed()).toBe('65000.1');
    expect(gateway.calls[0].clientOrderId).toBe(REQUEST.clientOrderId);
  });

  it('fails a skip_user error with the words of the error and sends nothing more', async () => {
    const margin = new InsufficientMarginError('Your futures wallet does not have enough margin for this order', -2019);
    const { place, gateway } = setup([{ throw: margin }]);
    expect(await place()).toEqual({
      status: 'FAILED',
      reason: 'Your futures wallet does not have enough margin for this order',
      errorKind: 'insufficient_margin',
      order: null,
      sends: 1,
    });
    expect(gateway.sendCount).toBe(1);
  });

  it('after an unknown outcome, finds the order by client id and adopts it without a second send', async () => {
    const { place, gateway, timeline } = setup([{ throw: unknown(), executed: true, latencyMs: 10_000 }]);
    const outcome = await place();
    expect(outcome).toMatchObject({ status: 'PLACED', adopted: true, sends: 1 });
    expect(timeline()).toEqual(['placeMarketOrder@0', 'getOrder@10000']);
    expect(gateway.sendCount).toBe(1);
  });

  it('after an unknown outcome, resends once with the same id only when the order is definitively absent', async () => {
    const { place, gateway, timeline } = setup([{ throw: unknown(), latencyMs: 300 }, { fill: true }]);
    const outcome = await place();
    expect(outcome).toMatchObject({ status: 'PLACED', adopted: false, sends: 2 });
    // The lookup at 300 ms is too early to prove absence (the request could still land); the one at 6 s is not.
    expect(timeline()).toEqual(['placeMarketOrder@0', 'getOrder@300', 'getOrder@6000', 'placeMarketOrder@6000']);
    expect(new Set(gateway.calls.map((c) => c.clientOrderId))).toEqual(new Set([REQUEST.clientOrderId]));
  });

  it('does not resend a second time when the resend is also lost', async () => {
    const { place, gateway } = setup([{ throw: unknown(), latencyMs: 7_000 }, { throw: unknown(), latencyMs: 7_000 }]);
    const outcome = await place(60_000);
    expect(outcome).toMatchObject({ status: 'FAILED', reason: 'the exchange received neither attempt to send the order (not placed)', sends: 2 });
    expect(gateway.sendCount).toBe(2);
  });

  it('reports UNKNOWN when lookups keep failing, and never sends again', async () => {
    const { place, gateway, timeline } = setup([{ throw: unknown() }], [unavailable(), unavailable(), unavailable()]);
    const outcome = await place();
    expect(outcome).toMatchObject({ status: 'UNKNOWN', errorKind: 'unknown_outcome', sends: 1 });
    if (outcome.status !== 'UNKNOWN') throw new Error('unreachable');
    expect(outcome.reason).toBe('outcome unknown, reconciling: the exchange did not answer the order lookup');
    expect(timeline()).toEqual(['placeMarketOrder@0', 'getOrder@0', 'getOrder@500', 'getOrder@1000']);
    expect(gateway.sendCount).toBe(1);
  });

  it('reports UNKNOWN when the deadline comes before absence can be proven', async () => {
    const { place, gateway, timeline } = setup([{ throw: unknown(), latencyMs: 100 }]);
    const outcome = await place(3_000);
    expect(outcome).toMatchObject({ status: 'UNKNOWN', reason: 'outcome unknown, reconciling: the order was not visible on the exchange yet' });
    expect(timeline()).toEqual(['placeMarketOrder@0', 'getOrder@100']);
    expect(gateway.sendCount).toBe(1);
  });

  it('treats a non-ExchangeError from the gateway as an unknown outcome and looks the order up', async () => {
    const { place, gateway } = setup([{ throw: new TypeError('socket hang up'), executed: true }]);
    expect(await place()).toMatchObject({ status: 'PLACED', adopted: true, sends: 1 });
    expect(gateway.sendCount).toBe(1);
  });

  it('retries transient errors with capped exponential backoff', async () => {
    const { place, timeline } = setup([{ throw: unavailable() }, { throw: new ClockSkewError('The server clock is out of sync') }, { fill: true }]);
    expect(await place()).toMatchObject({ status: 'PLACED', sends: 3 });
    expect(timeline()).toEqual(['placeMarketOrder@0', 'placeMarketOrder@200', 'placeMarketOrder@600']);
  });

  it('gives up on transient errors at the deadline, with the error\'s words', async () => {
    const { place, gateway } = setup([{ throw: unavailable() }, { throw: unavailable() }, { throw: unavailable() }]);
    const outcome = await place(500);
    expect(outcome).toMatchObject({
      status: 'FAILED',
      reason: 'Binance is unavailable right now (not placed before the execution deadline)',
      errorKind: 'unavailable',
    });
    expect(gateway.sendCount).toBe(2);
  });

  it('on a rate limit, waits for the shared pause and then resumes', async () => {
    const { place, timeline } = setup(
      [{ throw: new RateLimitedError('Too many requests to Binance; trading is paused briefly', 1_000, -1003) }, { fill: true }],
      [],
      (clock) => ({ waitForPause: () => clock.sleep(3_000) }),
    );
    expect(await place()).toMatchObject({ status: 'PLACED', sends: 2 });
    expect(timeline()).toEqual(['placeMarketOrder@0', 'placeMarketOrder@3000']);
  });

  it('without a pause hook, sleeps the error\'s retry-after before resuming', async () => {
    const { place, timeline } = setup([{ throw: new RateLimitedError('Too many requests to Binance', 2_500, -1003) }, { fill: true }]);
    expect(await place()).toMatchObject({ status: 'PLACED', sends: 2 });
    expect(timeline()).toEqual(['placeMarketOrder@0', 'placeMarketOrder@2500']);
  });

  it('fails without a second send when the pause outlasts the deadline', async () => {
    const ban = new IpBannedError('Binance has paused our access for 2 minutes', 120_000, -1003);
    const hook = setup([{ throw: ban }], [], () => ({ waitForPause: () => new Promise<void>(() => undefined) }));
    expect(await hook.place(20_000)).toMatchObject({ status: 'FAILED', reason: 'Binance has paused our access for 2 minutes (not placed before the execution deadline)' });
    expect(hook.clock.now() - hook.t0).toBe(20_000);
    expect(hook.gateway.sendCount).toBe(1);

    const noHook = setup([{ throw: ban }]);
    expect(await noHook.place(20_000)).toMatchObject({ status: 'FAILED', errorKind: 'ip_banned', sends: 1 });
    expect(noHook.clock.now() - noHook.t0).toBe(0);
  });

  it('fails when the order ends on the exchange without a fill', async () => {
    const { place } = setup([{ fill: true, status: 'EXPIRED' }]);
    const outcome = await place();
    expect(outcome).toMatchObject({ status: 'FAILED', reason: 'the order expired on the exchange without a fill', errorKind: null });
    if (outcome.status !== 'FAILED') throw new Error('unreachable');
    expect(outcome.order?.status).toBe('EXPIRED');
  });

  it('sends nothing once the deadline has passed', async () => {
    const { place, gateway } = setup([{ fill: true }]);
    expect(await place(0)).toMatchObject({ status: 'FAILED', reason: 'the execution deadline passed before the order could be sent (not placed before the execution deadline)', sends: 0 });
    expect(gateway.sendCount).toBe(0);
  });

  it('never has two placements in flight for one client id: a second call joins the first', async () => {
    const { clock, t0, gateway, placer } = setup([{ fill: true, latencyMs: 500 }, { fill: true }]);
    const first = placer.place(gateway, REQUEST, t0 + 20_000);
    const second = placer.place(gateway, REQUEST, t0 + 20_000);
    expect(placer.isInFlight(REQUEST.clientOrderId)).toBe(true);
    const [a, b] = await clock.run(Promise.all([first, second]));
    expect(b).toBe(a);
    expect(gateway.sendCount).toBe(1);
    expect(placer.isInFlight(REQUEST.clientOrderId)).toBe(false);
  });
});

describe('OrderPlacer with an abort signal', () => {
  it('sends nothing more once the executor has given up on the user, but still reports honestly', async () => {
    const { clock, t0, gateway, placer } = setup([{ throw: unavailable() }, { fill: true }], [], () => ({}), { backoffBaseMs: 1_000 });
    const cancel = new AbortController();
    const placing = placer.place(gateway, REQUEST, t0 + 20_000, cancel.signal);
    void clock.sleep(300).then(() => cancel.abort());
    expect(await clock.run(placing)).toMatchObject({
      status: 'FAILED',
      reason: 'the execution was cancelled before the order could be sent (not placed)',
      errorKind: 'unavailable',
      sends: 1,
    });
    expect(clock.now() - t0).toBe(300);
    expect(gateway.sendCount).toBe(1);
  });

  it('keeps looking an unknown order up after the abort: a lookup is never cut short', async () => {
    const { clock, t0, gateway, placer } = setup([{ throw: unknown(), executed: true, latencyMs: 200 }]);
    const cancel = new AbortController();
    cancel.abort();
    // Aborted before the call: nothing is sent at all.
    expect(await clock.run(placer.place(gateway, REQUEST, t0 + 20_000, cancel.signal))).toMatchObject({ status: 'FAILED', sends: 0 });

    const late = new AbortController();
    const placing = placer.place(gateway, REQUEST, t0 + 20_000, late.signal);
    void clock.sleep(100).then(() => late.abort());
    expect(await clock.run(placing)).toMatchObject({ status: 'PLACED', adopted: true, sends: 1 });
    expect(gateway.sendCount).toBe(1);
  });
});
