import { RSI } from 'trading-signals';
import { PositionSide } from '../../../entities/enums';
import type { Candle } from '../../market/candle';
import type { Vote, Witness } from '../witness';
import { ramp, requireCandles, round, toOhlc } from './candle-series';

export interface MomentumWitnessOptions {
  period?: number;
  /** RSI within 50 ± band has no momentum. */
  neutralBand?: number;
  /** Distance from 50 at which confidence reaches 1. */
  fullAt?: number;
}

/** RSI above 50 + band → LONG, below 50 − band → SHORT (momentum, not mean reversion). */
export class MomentumWitness implements Witness {
  readonly name = 'momentum';
  readonly lookback: number;
  private readonly period: number;
  private readonly band: number;
  private readonly fullAt: number;

  constructor(options: MomentumWitnessOptions = {}) {
    this.period = options.period ?? 14;
    this.band = options.neutralBand ?? 5;
    this.fullAt = options.fullAt ?? 25;
    // Wilder smoothing carries memory: a few periods make the value independent of where the window starts.
    this.lookback = this.period * 5;
  }

  evaluate(candles: readonly Candle[]): Vote {
    requireCandles(candles, this.period * 2);
    const rsi = new RSI(this.period);
    for (const { close } of toOhlc(candles)) rsi.add(close);
    const value = rsi.getResultOrThrow();
    const label = `RSI${this.period} ${round(value)}`;
    const distance = value - 50;
    if (Math.abs(distance) <= this.band) {
      return { side: PositionSide.FLAT, confidence: 0, reason: `${label} within 50±${this.band}: no momentum` };
    }
    const side = distance > 0 ? PositionSide.LONG : PositionSide.SHORT;
    return {
      side,
      confidence: ramp(Math.abs(distance), 0, this.fullAt),
      reason: `${label} ${side === PositionSide.LONG ? 'above' : 'below'} 50±${this.band}: ${side === PositionSide.LONG ? 'bullish' : 'bearish'} momentum`,
    };
  }
}
