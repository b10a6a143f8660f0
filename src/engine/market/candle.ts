import Decimal from 'decimal.js';

/**
 * One closed kline. Prices and volume stay the exchange's exact decimal strings so money maths
 * can use `Decimal` without float drift; indicators convert to numbers internally.
 */
export interface Candle {
  /** Open time, ms since epoch (UTC): the candle's identity for ordering and idempotence. */
  readonly openTime: number;
  /** Binance convention: openTime + interval - 1. */
  readonly closeTime: number;
  readonly open: string;
  readonly high: string;
  readonly low: string;
  readonly close: string;
  readonly volume: string;
}

export const KLINE_INTERVALS = ['1m', '3m', '5m', '15m', '30m', '1h', '2h', '4h', '6h', '8h', '12h', '1d'] as const;
export type KlineInterval = (typeof KLINE_INTERVALS)[number];

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

export function isKlineInterval(value: string): value is KlineInterval {
  return (KLINE_INTERVALS as readonly string[]).includes(value);
}

export function intervalMs(interval: KlineInterval): number {
  if (!isKlineInterval(interval)) throw new Error(`Unknown kline interval "${String(interval)}"`);
  return Number(interval.slice(0, -1)) * UNIT_MS[interval.slice(-1)];
}

/** Throws with a plain reason when a candle is not internally consistent. */
export function assertValidCandle(c: Candle): void {
  if (!Number.isSafeInteger(c.openTime) || c.openTime < 0) throw new Error(`open_time "${c.openTime}" is not a timestamp`);
  if (!Number.isSafeInteger(c.closeTime) || c.closeTime <= c.openTime) throw new Error(`close_time "${c.closeTime}" is not after open_time`);
  const p: Record<string, Decimal> = {};
  for (const field of ['open', 'high', 'low', 'close', 'volume'] as const) {
    const raw = c[field];
    let d: Decimal;
    try {
      d = new Decimal(raw);
    } catch {
      throw new Error(`${field} "${raw}" is not a number`);
    }
    if (!d.isFinite() || d.isNegative() || (field !== 'volume' && d.isZero())) throw new Error(`${field} "${raw}" is out of range`);
    p[field] = d;
  }
  if (p.high.lt(Decimal.max(p.open, p.close, p.low))) throw new Error(`high ${c.high} is below open, close or low`);
  if (p.low.gt(Decimal.min(p.open, p.close))) throw new Error(`low ${c.low} is above open or close`);
}

/** A Binance kline row (REST array, CSV record) → Candle. Fields beyond volume are not used by the strategy. */
export function candleFromKlineRow(row: readonly unknown[]): Candle {
  if (row.length < 7) throw new Error(`expected at least 7 columns, got ${row.length}`);
  const time = (v: unknown, name: string): number => {
    const n = typeof v === 'number' ? v : /^\d+$/.test(String(v).trim()) ? Number(String(v).trim()) : NaN;
    if (!Number.isSafeInteger(n)) throw new Error(`${name} "${String(v)}" is not a timestamp`);
    return n;
  };
  const candle: Candle = {
    openTime: time(row[0], 'open_time'),
    open: String(row[1]).trim(),
    high: String(row[2]).trim(),
    low: String(row[3]).trim(),
    close: String(row[4]).trim(),
    volume: String(row[5]).trim(),
    closeTime: time(row[6], 'close_time'),
  };
  assertValidCandle(candle);
  return candle;
}
