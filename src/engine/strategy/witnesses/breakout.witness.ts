import { DonchianChannels } from 'trading-signals';
import { PositionSide } from '../../../entities/enums';
import type { Candle } from '../../market/candle';
import type { Vote, Witness } from '../witness';
import { ramp, requireCandles, round, toOhlc } from './candle-series';

export interface BreakoutWitnessOptions {
  period?: number;
  /** Fraction of the channel at each edge that already counts as pressing on it. */
  edge?: number;
}

/**
 * Donchian channel of the previous `period` candles (the current one excluded, or it could never
 * break out of itself): a close beyond it is a breakout (confidence 1); a close in the top or
 * bottom `edge` of it leans that way; the middle has no opinion.
 */
export class BreakoutWitness implements Witness {
  readonly name = 'breakout';
  readonly lookback: number;
  private readonly period: number;
  private readonly edge: number;

  constructor(options: BreakoutWitnessOptions = {}) {
    this.period = options.period ?? 20;
    this.edge = options.edge ?? 0.25;
    this.lookback = this.period + 1;
  }

  evaluate(candles: readonly Candle[]): Vote {
    requireCandles(candles, this.period + 1);
    const series = toOhlc(candles.slice(-(this.period + 1)));
    const current = series[series.length - 1];
    const channel = new DonchianChannels(this.period);
    for (const { high, low } of series.slice(0, -1)) channel.add({ high, low });
    const { upper, lower } = channel.getResultOrThrow();
    const label = `close ${round(current.close)} vs ${this.period}-candle channel ${round(lower)}–${round(upper)}`;
    if (current.close > upper) return { side: PositionSide.LONG, confidence: 1, reason: `${label}: broke above` };
    if (current.close < lower) return { side: PositionSide.SHORT, confidence: 1, reason: `${label}: broke below` };
    const position = upper > lower ? (current.close - lower) / (upper - lower) : 0.5;
    const where = `${label} at ${round(position * 100, 0)}% of range`;
    if (position >= 1 - this.edge) {
      return { side: PositionSide.LONG, confidence: ramp(position, 0.5, 1), reason: `${where}: pressing the top` };
    }
    if (position <= this.edge) {
      return { side: PositionSide.SHORT, confidence: ramp(1 - position, 0.5, 1), reason: `${where}: pressing the bottom` };
    }
    return { side: PositionSide.FLAT, confidence: 0, reason: `${where}: mid-channel, no opinion` };
  }
}
