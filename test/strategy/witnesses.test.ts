import { PositionSide } from '../../src/entities/enums';
import { BreakoutWitness } from '../../src/engine/strategy/witnesses/breakout.witness';
import { MomentumWitness } from '../../src/engine/strategy/witnesses/momentum.witness';
import { TrendWitness } from '../../src/engine/strategy/witnesses/trend.witness';
import { VolatilityWitness } from '../../src/engine/strategy/witnesses/volatility.witness';
import type { Candle } from '../../src/engine/market/candle';
import type { Witness } from '../../src/engine/strategy/witness';
import { NotEnoughCandlesError } from '../../src/engine/strategy/witness';
import { candleAt, loadFixture } from './strategy-test-kit';

const up = loadFixture('golden-uptrend-15m.csv');
const down = loadFixture('golden-downtrend-15m.csv');
const range = loadFixture('golden-range-15m.csv');
const spike = loadFixture('golden-volatility-spike-15m.csv');

const vote = (w: Witness, candles: readonly Candle[]) => w.evaluate(Object.freeze(candles.slice(-w.lookback)));

describe('trend witness (EMA12/EMA26)', () => {
  const w = new TrendWitness();
  it('votes LONG with full confidence on the golden uptrend, naming both EMAs', () => {
    expect(vote(w, up)).toEqual({ side: PositionSide.LONG, confidence: 1, reason: 'EMA12 72071.52 vs EMA26 70858.19 (spread 1.712%): uptrend' });
  });
  it('votes SHORT on the golden downtrend', () => {
    expect(vote(w, down)).toMatchObject({ side: PositionSide.SHORT, confidence: 1, reason: expect.stringContaining('spread -1.767%') });
  });
  it('has no opinion in the flat range', () => {
    expect(vote(w, range)).toMatchObject({ side: PositionSide.FLAT, confidence: 0, reason: expect.stringContaining('no trend') });
  });
  it('says it is warming up rather than guessing on too few candles', () => {
    expect(() => w.evaluate(up.slice(0, 10))).toThrow(NotEnoughCandlesError);
  });
});

describe('momentum witness (RSI14)', () => {
  const w = new MomentumWitness();
  it('votes LONG on the uptrend and SHORT on the downtrend', () => {
    expect(vote(w, up)).toEqual({ side: PositionSide.LONG, confidence: 1, reason: 'RSI14 100.00 above 50±5: bullish momentum' });
    expect(vote(w, down)).toEqual({ side: PositionSide.SHORT, confidence: 1, reason: 'RSI14 0.00 below 50±5: bearish momentum' });
  });
  it('scales confidence with the distance from 50 in the range', () => {
    const v = vote(w, range);
    expect(v.side).toBe(PositionSide.SHORT);
    expect(v.confidence).toBeCloseTo(0.2008, 4);
    expect(v.reason).toBe('RSI14 44.98 below 50±5: bearish momentum');
  });
});

describe('breakout witness (Donchian 20)', () => {
  const w = new BreakoutWitness();
  it('votes LONG when the close presses the top of the channel', () => {
    const v = vote(w, up);
    expect(v).toMatchObject({ side: PositionSide.LONG, reason: expect.stringContaining('69245.80–73010.30 at 100% of range: pressing the top') });
    expect(v.confidence).toBeCloseTo(0.9999, 4);
  });
  it('votes SHORT with confidence 1 on a close below the channel', () => {
    expect(vote(w, down)).toEqual({
      side: PositionSide.SHORT,
      confidence: 1,
      reason: 'close 49283.90 vs 20-candle channel 49284.00–51969.80: broke below',
    });
  });
  it('leans SHORT near the bottom of a range, by how far down it is', () => {
    const v = vote(w, range);
    expect(v.side).toBe(PositionSide.SHORT);
    expect(v.confidence).toBeCloseTo(0.5313, 4);
  });
  it('has no opinion mid-channel', () => {
    const mid = range.slice(0, 73); // ends where the sine crosses its midline
    expect(vote(w, mid).side).toBe(PositionSide.FLAT);
    expect(vote(w, mid).confidence).toBe(0);
  });
});

describe('volatility witness (ATR14 as % of price)', () => {
  const w = new VolatilityWitness();
  it('votes FLAT with full confidence when the market is too wild', () => {
    expect(vote(w, spike)).toEqual({
      side: PositionSide.FLAT,
      confidence: 1,
      reason: 'ATR14 3511.82 = 5.628% of price 62400.00 (normal 0.080%–1.200%): too wild, stand aside',
    });
  });
  it('votes FLAT when the market is too quiet to pay the fees', () => {
    const dead = Array.from({ length: 60 }, (_, i) => candleAt(i, '60000.0'));
    expect(vote(w, dead)).toMatchObject({ side: PositionSide.FLAT, confidence: 1, reason: expect.stringContaining('too quiet') });
  });
  it('raises no objection in a normal market (FLAT with confidence 0) and never picks a side', () => {
    for (const candles of [up, down, range]) {
      expect(vote(w, candles)).toMatchObject({ side: PositionSide.FLAT, confidence: 0, reason: expect.stringContaining('normal, no objection') });
    }
  });
});
