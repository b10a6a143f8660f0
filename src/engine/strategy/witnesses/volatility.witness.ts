import { ATR } from 'trading-signals';
import { PositionSide } from '../../../entities/enums';
import type { Candle } from '../../market/candle';
import type { Vote, Witness } from '../witness';
import { pct, ramp, requireCandles, round, toOhlc } from './candle-series';

export interface VolatilityWitnessOptions {
  period?: number;
  /** ATR / close below this: too quiet, moves will not pay the fees. Default tuned for 15m BTC. */
  quietBelow?: number;
  /** ATR / close above this: too wild, stops get run. Default tuned for 15m BTC. */
  wildAbove?: number;
}

/**
 * The regime guard. It never picks a direction: outside the normal band of ATR as a share of
 * price it votes FLAT with confidence 0.5–1 (growing with how far out it is), which the
 * orchestrator counts against any position; inside the band it votes FLAT with confidence 0,
 * meaning "no objection".
 */
export class VolatilityWitness implements Witness {
  readonly name = 'volatility';
  readonly lookback: number;
  private readonly period: number;
  private readonly quietBelow: number;
  private readonly wildAbove: number;

  constructor(options: VolatilityWitnessOptions = {}) {
    this.period = options.period ?? 14;
    this.quietBelow = options.quietBelow ?? 0.0008;
    this.wildAbove = options.wildAbove ?? 0.012;
    if (!(this.quietBelow < this.wildAbove)) throw new Error('volatility witness: quietBelow must be below wildAbove');
    this.lookback = this.period * 4;
  }

  evaluate(candles: readonly Candle[]): Vote {
    requireCandles(candles, this.period + 1);
    const atr = new ATR(this.period);
    const series = toOhlc(candles);
    for (const { high, low, close } of series) atr.add({ high, low, close });
    const value = atr.getResultOrThrow();
    const close = series[series.length - 1].close;
    const share = value / close;
    const label = `ATR${this.period} ${round(value)} = ${pct(share, 3)} of price ${round(close)} (normal ${pct(this.quietBelow, 3)}–${pct(this.wildAbove, 3)})`;
    if (share > this.wildAbove) {
      return { side: PositionSide.FLAT, confidence: 0.5 + 0.5 * ramp(share, this.wildAbove, this.wildAbove * 2), reason: `${label}: too wild, stand aside` };
    }
    if (share < this.quietBelow) {
      return { side: PositionSide.FLAT, confidence: 0.5 + 0.5 * ramp(this.quietBelow - share, 0, this.quietBelow / 2), reason: `${label}: too quiet, stand aside` };
    }
    return { side: PositionSide.FLAT, confidence: 0, reason: `${label}: normal, no objection` };
  }
}
