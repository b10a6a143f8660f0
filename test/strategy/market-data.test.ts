import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createMarketFeed, UnknownFeedError } from '../../src/engine/market/feed-factory';
import { CsvFormatError, formatKlineCsv, parseKlineCsv } from '../../src/engine/market/kline-csv';
import { SimulatedCandleGenerator } from '../../src/engine/market/simulated-candle-generator';
import { SimulatedFeed } from '../../src/engine/market/simulated-feed';
import type { Candle } from '../../src/engine/market/candle';
import { FIXTURES, silentLogger, STEP_15M } from './strategy-test-kit';

const HEADER = 'open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore';
const GOOD = '1704067200000,65000.0,65055.6,64742.8,64949.0,197.147,1704068099999,12797955.2,7295,88.716,5759070.1,0';
const NEXT = '1704068100000,64949.0,64959.1,64723.3,64855.8,171.683,1704068999999,11132967.2,6353,77.257,5009812.5,0';

describe('kline CSV', () => {
  it('parses Binance layout with or without a header', () => {
    const withHeader = parseKlineCsv([HEADER, GOOD, NEXT].join('\n'));
    const without = parseKlineCsv([GOOD, NEXT].join('\n'));
    expect(without).toEqual(withHeader);
    expect(withHeader[0]).toEqual({ openTime: 1704067200000, closeTime: 1704068099999, open: '65000.0', high: '65055.6', low: '64742.8', close: '64949.0', volume: '197.147' });
  });

  it.each([
    ['a price that is not a number', GOOD.replace('64949.0', 'abc'), 3, 'close "abc" is not a number'],
    ['too few columns', '1704068100000,64949.0,64959.1', 3, 'expected 12 columns, got 3'],
    ['a high below the close', NEXT.replace('64959.1', '64000.0'), 3, 'high 64000.0 is below open, close or low'],
    ['a timestamp that is not one', NEXT.replace('1704068100000', '2024-01-01'), 3, 'open_time "2024-01-01" is not a timestamp'],
    ['rows out of order', GOOD, 3, 'is not after the previous row'],
  ])('reports %s with its line number', (_label, badLine, line, problem) => {
    const text = [HEADER, badLine === GOOD ? NEXT : GOOD, badLine].join('\n');
    let error: unknown;
    try {
      parseKlineCsv(text, 'sample.csv');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(CsvFormatError);
    expect((error as CsvFormatError).line).toBe(line);
    expect((error as CsvFormatError).message).toContain(`sample.csv:${line}: `);
    expect((error as CsvFormatError).message).toContain(problem);
  });

  it('round-trips through the writer', () => {
    const candles = new SimulatedCandleGenerator({ seed: 3, interval: '15m', startTime: Date.UTC(2024, 0, 1) }).take(20);
    expect(parseKlineCsv(formatKlineCsv(candles))).toEqual(candles);
  });

  it('the committed 1000-row fixture is the seed-42 simulation', () => {
    const file = readFileSync(join(FIXTURES, 'btcusdt-15m-sim-seed42.csv'), 'utf8');
    const regenerated = new SimulatedCandleGenerator({ seed: 42, interval: '15m', startTime: Date.UTC(2024, 0, 1) }).take(1000);
    expect(parseKlineCsv(file)).toEqual(regenerated);
  });
});

describe('simulated market', () => {
  const gen = (seed: number) => new SimulatedCandleGenerator({ seed, interval: '15m', startTime: Date.UTC(2024, 0, 1) }).take(500);

  it('is deterministic per seed and differs between seeds', () => {
    expect(gen(7)).toEqual(gen(7));
    expect(gen(8)).not.toEqual(gen(7));
  });

  it('produces consistent, contiguous, BTC-like candles', () => {
    const candles = gen(11);
    const closes = candles.map((c) => Number(c.close));
    const logReturns = closes.slice(1).map((c, i) => Math.log(c / closes[i]));
    const sd = Math.sqrt(logReturns.reduce((a, r) => a + r * r, 0) / logReturns.length);
    expect(sd).toBeGreaterThan(0.001);
    expect(sd).toBeLessThan(0.01);
    candles.forEach((c, i) => {
      expect(Number(c.high)).toBeGreaterThanOrEqual(Math.max(Number(c.open), Number(c.close)));
      expect(Number(c.low)).toBeLessThanOrEqual(Math.min(Number(c.open), Number(c.close)));
      if (i > 0) {
        expect(c.openTime - candles[i - 1].openTime).toBe(STEP_15M);
        expect(c.open).toBe(candles[i - 1].close);
      }
    });
  });

  it('feed: warm-up history, then a 15m candle every ~3 s of wall time at speed 300', async () => {
    jest.useFakeTimers();
    try {
      const now = Date.UTC(2024, 5, 1, 12, 7);
      const feed = new SimulatedFeed({ symbol: 'BTCUSDT', interval: '15m', logger: silentLogger, seed: 5, historyCandles: 50, now: () => now });
      const got: [Candle, boolean][] = [];
      feed.onCandle((c, meta) => got.push([c, meta.backfill]));
      await feed.start();
      expect(got).toHaveLength(50);
      expect(got.every(([, backfill]) => backfill)).toBe(true);
      jest.advanceTimersByTime(2_999);
      expect(got).toHaveLength(50);
      jest.advanceTimersByTime(1);
      expect(got).toHaveLength(51);
      expect(got[50][1]).toBe(false);
      expect(got[50][0].openTime).toBe(Date.UTC(2024, 5, 1, 12, 0));
      expect(feed.latestPrice()).toBe(got[50][0].close);
      await feed.stop();
      jest.advanceTimersByTime(30_000);
      expect(got).toHaveLength(51);
    } finally {
      jest.useRealTimers();
    }
  });

  it('feed: resumes after restored state rather than replaying its past', async () => {
    jest.useFakeTimers();
    try {
      const now = Date.UTC(2024, 5, 1);
      const resumeAfter = now + 100 * STEP_15M;
      const feed = new SimulatedFeed({ symbol: 'BTCUSDT', interval: '15m', logger: silentLogger, historyCandles: 10, now: () => now });
      const got: Candle[] = [];
      feed.onCandle((c) => got.push(c));
      await feed.start({ resumeAfter });
      jest.advanceTimersByTime(3_000);
      expect(got[got.length - 1].openTime).toBe(resumeAfter + STEP_15M);
      await feed.stop();
    } finally {
      jest.useRealTimers();
    }
  });
});

describe('createMarketFeed', () => {
  const settings = { symbol: 'BTCUSDT', interval: '15m' as const, binanceRestUrl: 'http://127.0.0.1:1', binanceWsUrl: 'ws://127.0.0.1:1' };
  it('builds the simulated and binance feeds', () => {
    expect(createMarketFeed('simulated', settings, silentLogger).kind).toBe('simulated');
    expect(createMarketFeed('binance', settings, silentLogger).kind).toBe('binance');
  });
  it('refuses an unknown kind with a clear error', () => {
    expect(() => createMarketFeed('kraken', settings, silentLogger)).toThrow(UnknownFeedError);
    expect(() => createMarketFeed('kraken', settings, silentLogger)).toThrow('Unknown market feed "kraken": expected "simulated" or "binance"');
  });
});
