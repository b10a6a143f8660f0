import { EMA } from 'trading-signals';
import { PositionSide } from '../../../entities/enums';
import type { Candle } from '../../market/candle';
import type { Vote, Witness } from '../witness';
import { pct, ramp, requireCandles, round, toOhlc } from './candle-series';

export interface TrendWitnessOptions {
  fast?: number;
  slow?: number;
  /** |fast − slow| / slow below this is no trend. */
  minSpread?: number;
  /** Spread at which confidence reaches 1. */
  fullSpread?: number;
}

/** Fast EMA above the slow EMA → LONG, below → SHORT; confidence grows with the spread. */
export class TrendWitness implements Witness {
  readonly name = 'trend';
  readonly lookback: number;
  private readonly fast: number;
  private readonly slow: number;
  private readonly minSpread: number;
  private readonly fullSpread: number;

  constructor(options: TrendWitnessOptions = {}) {
    this.fast = options.fast ?? 12;
    this.slow = options.slow ?? 26;
    this.minSpread = options.minSpread ?? 0.0008;
    this.fullSpread = options.fullSpread ?? 0.006;
    if (!(this.fast < this.slow)) throw new Error('trend witness: fast period must be shorter than slow');
    // EMAs seed from the first price, so give them a few slow periods to forget it.
    this.lookback = this.slow * 4;
  }

  evaluate(candles: readonly Candle[]): Vote {
    requireCandles(candles, this.slow * 2);
    const fast = new EMA(this.fast);
    const slow = new EMA(this.slow);
    for (const { close } of toOhlc(candles)) {
      fast.add(close);
      slow.add(close);
    }
    const f = fast.getResultOrThrow();
    const s = slow.getResultOrThrow();
    const spread = (f - s) / s;
    const numbers = `EMA${this.fast} ${round(f)} vs EMA${this.slow} ${round(s)} (spread ${pct(spread, 3)})`;
    if (Math.abs(spread) < this.minSpread) {
      return { side: PositionSide.FLAT, confidence: 0, reason: `${numbers} inside ±${pct(this.minSpread, 3)}: no trend` };
    }
    const side = spread > 0 ? PositionSide.LONG : PositionSide.SHORT;
    return {
      side,
      confidence: ramp(Math.abs(spread), 0, this.fullSpread),
      reason: `${numbers}: ${side === PositionSide.LONG ? 'uptrend' : 'downtrend'}`,
    };
  }
}
