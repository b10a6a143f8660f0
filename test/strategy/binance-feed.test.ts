import { BinanceFeed } from '../../src/engine/market/binance-feed';
import type { Candle } from '../../src/engine/market/candle';
import { FakeBinance } from '../support/fake-binance';
import { captureLogger } from './strategy-test-kit';

const MIN = 60_000;
const T = Date.UTC(2024, 0, 1);
const row = (i: number) => {
  const price = (42_000 + i * 10).toFixed(1);
  return { openTime: T + i * MIN, closeTime: T + (i + 1) * MIN - 1, open: price, high: (42_005 + i * 10).toFixed(1), low: (41_995 + i * 10).toFixed(1), close: price, volume: '12.500' };
};
const push = (fake: FakeBinance, i: number, closed = true) => fake.pushKline({ ...row(i), symbol: 'BTCUSDT', interval: '1m', closed });

async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('BinanceFeed against a Binance-compatible local server', () => {
  let fake: FakeBinance;
  let feed: BinanceFeed | null = null;

  beforeEach(async () => {
    fake = new FakeBinance();
    await fake.start();
  });

  afterEach(async () => {
    await feed?.stop();
    feed = null;
    await fake.stop();
  });

  it('backfills history, streams closed candles, and refills the gap after a dropped connection with nothing missed or repeated', async () => {
    fake.setKlines('BTCUSDT', '1m', Array.from({ length: 10 }, (_, i) => row(i)));
    const { logger, lines } = captureLogger();
    const delivered: { candle: Candle; backfill: boolean }[] = [];
    feed = new BinanceFeed({
      symbol: 'BTCUSDT',
      interval: '1m',
      logger,
      restBaseUrl: fake.url,
      wsUrl: fake.wsUrl,
      historyCandles: 5,
      reconnectDelayMs: 200,
      // Fixed clock: every stored candle has closed.
      now: () => T + 1_000 * MIN,
    });
    feed.onCandle((candle, meta) => delivered.push({ candle, backfill: meta.backfill }));
    await feed.start();
    await waitFor(() => fake.marketConnectionCount === 1, 'the market socket');

    // History: the last 5 closed candles, flagged as backfill (warm-up only).
    expect(delivered.map((d) => [(d.candle.openTime - T) / MIN, d.backfill])).toEqual([[5, true], [6, true], [7, true], [8, true], [9, true]]);

    push(fake, 10, false); // still forming: price only
    await waitFor(() => feed!.latestPrice() === '42100.0', 'the live price');
    push(fake, 10);
    push(fake, 10); // exchange repeats itself
    push(fake, 9); // and sends a straggler
    await waitFor(() => delivered.length === 6, 'candle 10');

    // Drop the stream; two candles close while it is down (stored by the exchange, seen by no socket).
    expect(fake.dropMarketConnections()).toBe(1);
    await waitFor(() => fake.marketConnectionCount === 0, 'the drop');
    push(fake, 11);
    push(fake, 12);
    await waitFor(() => fake.marketConnectionCount === 1, 'the reconnect');
    await waitFor(() => delivered.length === 8, 'the gap backfill');
    push(fake, 12); // the stream replays a candle the backfill already delivered
    push(fake, 13);
    await waitFor(() => delivered.length === 9, 'candle 13');
    // A message lost without a disconnect: 14 never arrives, 15 does; 14 is fetched before 15.
    fake.setKlines('BTCUSDT', '1m', [...Array.from({ length: 16 }, (_, i) => row(i))]);
    push(fake, 15);
    await waitFor(() => delivered.length === 11, 'candles 14 and 15');

    const live = delivered.filter((d) => !d.backfill).map((d) => (d.candle.openTime - T) / MIN);
    expect(live).toEqual([10, 11, 12, 13, 14, 15]);
    const times = delivered.map((d) => d.candle.openTime);
    expect(new Set(times).size).toBe(times.length);
    expect(delivered[delivered.length - 1].candle).toEqual({ ...row(15) });
    expect(Object.isFrozen(delivered[0].candle)).toBe(true);

    const messages = lines().map((l) => l.msg);
    expect(messages.filter((m) => m === 'duplicate candle dropped').length).toBeGreaterThanOrEqual(2);
    expect(messages).toContain('out-of-order candle dropped');
    expect(messages).toContain('kline gap backfilled');
    const gapFetches = fake.requests({ path: '/fapi/v1/klines' }).filter((r) => r.params.startTime !== undefined);
    expect(gapFetches.map((r) => Number(r.params.startTime))).toEqual(expect.arrayContaining([T + 11 * MIN, T + 14 * MIN]));
  });
});
