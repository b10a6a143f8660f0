import type { Candle } from '../../market/candle';
import { NotEnoughCandlesError } from '../witness';

/** Indicator inputs as numbers: fine for signals, never used for money. */
export interface Ohlc {
  open: number;
  high: number;
  low: number;
  close: number;
}

export function toOhlc(candles: readonly Candle[]): Ohlc[] {
  return candles.map((c) => ({ open: Number(c.open), high: Number(c.high), low: Number(c.low), close: Number(c.close) }));
}

export function requireCandles(candles: readonly Candle[], needed: number): void {
  if (candles.length < needed) throw new NotEnoughCandlesError(needed, candles.length);
}

/** Linear ramp of x from `from` (→ 0) to `to` (→ 1), clamped. */
export function ramp(x: number, from: number, to: number): number {
  return Math.min(1, Math.max(0, (x - from) / (to - from)));
}

export function pct(x: number, digits = 2): string {
  return `${(x * 100).toFixed(digits)}%`;
}

export function round(x: number, digits = 2): string {
  return x.toFixed(digits);
}
