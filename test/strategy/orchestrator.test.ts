import { PositionSide, SignalAction } from '../../src/entities/enums';
import type { Candle } from '../../src/engine/market/candle';
import { Orchestrator } from '../../src/engine/strategy/orchestrator';
import type { OrchestratorConfig } from '../../src/engine/strategy/orchestrator';
import { stateFromLastSignal } from '../../src/engine/strategy/strategy-signal';
import type { Vote } from '../../src/engine/strategy/witness';
import { evaluateOnce } from '../../src/engine/strategy/evaluate-once';
import { candleAt, captureLogger, flat, loadFixture, long, ScriptedWitness, short, silentLogger, STEP_15M, T0 } from './strategy-test-kit';

type Script = (index: number, candles: readonly Candle[]) => Vote | unknown;

function panel(scripts: Script[], extra: Partial<OrchestratorConfig> = {}): Orchestrator {
  return new Orchestrator({
    symbol: 'BTCUSDT',
    interval: '15m',
    logger: silentLogger,
    cooldownCandles: 0,
    witnesses: scripts.map((script, i) => ({ witness: new ScriptedWitness(`w${i}`, script), weight: 1 })),
    ...extra,
  });
}

/** Both witnesses follow one script of sides per candle index. */
function together(sides: Record<number, Vote>): Script {
  return (i) => sides[i] ?? flat();
}

const actions = (o: Orchestrator, from: number, to: number) => {
  const out: string[] = [];
  for (let i = from; i <= to; i++) for (const s of o.step(candleAt(i))) out.push(`${i}:${s.action}`);
  return out;
};

describe('Orchestrator consensus', () => {
  it('opens long when the weighted agreement reaches the quorum, and only once while it holds', () => {
    const s = together({ 1: long(), 2: long(), 3: long() });
    expect(actions(panel([s, s]), 0, 3)).toEqual(['1:OPEN_LONG']);
  });

  it('opens short on agreement to the downside', () => {
    const s = together({ 1: short(0.8) });
    const o = panel([s, s]);
    o.step(candleAt(0));
    const [signal] = o.step(candleAt(1));
    expect(signal).toMatchObject({
      action: SignalAction.OPEN_SHORT,
      symbol: 'BTCUSDT',
      interval: '15m',
      strength: 0.8,
      referencePrice: '60000.0',
      candleTime: T0 + STEP_15M,
    });
    expect(signal.votes.map((v) => [v.witness, v.side, v.confidence, v.abstained])).toEqual([
      ['w0', PositionSide.SHORT, 0.8, false],
      ['w1', PositionSide.SHORT, 0.8, false],
    ]);
    expect(signal.reason).toContain('SHORT 0.800 ≥ quorum 0.5');
  });

  it('does not open below the quorum, nor when a FLAT objection outweighs the agreement', () => {
    expect(actions(panel([together({ 1: long(0.9) }), together({})]), 0, 2)).toEqual([]);
    expect(actions(panel([together({ 1: long() }), together({ 1: long() }), together({ 1: flat(1) })]), 0, 2)).toEqual([]);
  });

  it('closes when the consensus falls away', () => {
    const s = together({ 1: long(), 2: long(), 3: flat() });
    expect(actions(panel([s, s]), 0, 4)).toEqual(['1:OPEN_LONG', '3:CLOSE']);
  });

  it('flips as CLOSE then OPEN on the same candle, in that order', () => {
    const s = together({ 1: long(), 2: short() });
    const o = panel([s, s]);
    expect(actions(o, 0, 1)).toEqual(['1:OPEN_LONG']);
    const flip = o.step(candleAt(2));
    expect(flip.map((x) => x.action)).toEqual([SignalAction.CLOSE, SignalAction.OPEN_SHORT]);
    expect(flip.every((x) => x.candleTime === T0 + 2 * STEP_15M)).toBe(true);
    expect(o.state.position).toBe(PositionSide.SHORT);
  });

  it('waits out the cooldown (in candles) before the next signal', () => {
    const s = together({ 1: long(), 2: short(), 3: short(), 4: short(), 5: short() });
    expect(actions(panel([s, s], { cooldownCandles: 3 }), 0, 5)).toEqual(['1:OPEN_LONG', '4:CLOSE', '4:OPEN_SHORT']);
  });

  it('never evaluates the same candle twice, and ignores older or duplicate candles', () => {
    const s = together({ 1: long(), 2: long() });
    const o = panel([s, s]);
    o.step(candleAt(0));
    expect(o.step(candleAt(1))).toHaveLength(1);
    expect(o.onCandle(candleAt(1))).toBeNull();
    expect(o.onCandle(candleAt(0))).toBeNull();
    expect(o.step(candleAt(1))).toEqual([]);
    expect(o.state).toEqual({ position: PositionSide.LONG, lastSignalCandleTime: T0 + STEP_15M, lastCandleTime: T0 + STEP_15M });
  });

  it('keeps strength within (0, 1]', () => {
    const s = together({ 1: long(1), 2: flat() });
    const o = panel([s, s, together({ 1: long(1) })]);
    const all = [0, 1, 2].flatMap((i) => o.step(candleAt(i)));
    expect(all.map((x) => x.action)).toEqual([SignalAction.OPEN_LONG, SignalAction.CLOSE]);
    for (const x of all) expect(x.strength > 0 && x.strength <= 1).toBe(true);
  });

  it('is deterministic: the same candles give the same signals', () => {
    const candles = loadFixture('btcusdt-15m-sim-seed42.csv');
    const run = () => {
      const o = new Orchestrator({ symbol: 'BTCUSDT', interval: '15m', logger: silentLogger });
      return candles.flatMap((c) => o.step(c));
    };
    const first = run();
    expect(first.length).toBeGreaterThan(10);
    expect(run()).toEqual(first);
  });
});

describe('Orchestrator with the real panel on golden fixtures', () => {
  const signals = (candles: Candle[]) => {
    const o = new Orchestrator({ symbol: 'BTCUSDT', interval: '15m', logger: silentLogger });
    return candles.flatMap((c) => o.step(c));
  };

  it('goes long in the clear uptrend and short in the clear downtrend', () => {
    const up = signals(loadFixture('golden-uptrend-15m.csv'));
    expect(up.map((s) => s.action)).toEqual([SignalAction.OPEN_LONG]);
    expect(up[0].votes.filter((v) => v.side === PositionSide.LONG).map((v) => v.witness)).toEqual(['trend', 'momentum', 'breakout']);
    expect(signals(loadFixture('golden-downtrend-15m.csv')).map((s) => s.action)).toEqual([SignalAction.OPEN_SHORT]);
  });

  it('stays out of the flat range', () => {
    expect(signals(loadFixture('golden-range-15m.csv'))).toEqual([]);
  });

  it('closes and turns short when an uptrend reverses', () => {
    const up = loadFixture('golden-uptrend-15m.csv');
    const last = up[up.length - 1];
    const down = loadFixture('golden-downtrend-15m.csv').map((c, i) => {
      // Continue from the uptrend's last close and time, scaled so the path is continuous.
      const k = Number(last.close) / 60_000;
      const scale = (v: string) => (Number(v) * k).toFixed(1);
      const openTime = last.openTime + (i + 1) * STEP_15M;
      return { ...c, openTime, closeTime: openTime + STEP_15M - 1, open: scale(c.open), high: scale(c.high), low: scale(c.low), close: scale(c.close) };
    });
    expect(signals([...up, ...down]).map((s) => s.action)).toEqual([SignalAction.OPEN_LONG, SignalAction.CLOSE, SignalAction.OPEN_SHORT]);
  });
});

describe('Witness sandbox', () => {
  const goodPair: Script[] = [together({ 1: long() }), together({ 1: long() })];

  it.each<[string, Script]>([
    ['throws', () => {
      throw new Error('boom');
    }],
    ['returns NaN confidence', () => ({ side: PositionSide.LONG, confidence: Number.NaN, reason: 'nan' })],
    ['returns an unknown side', () => ({ side: 'UP', confidence: 1, reason: 'bad side' })],
    ['returns nothing', () => undefined],
    ['mutates the candles it was given', (_i, candles) => {
      (candles as Candle[]).push(candleAt(99));
      return long();
    }],
  ])('a witness that %s abstains, is logged, and the others still decide', (_label, bad) => {
    const { logger, lines } = captureLogger();
    const o = panel([bad, ...goodPair], { logger });
    o.step(candleAt(0));
    const [signal] = o.step(candleAt(1));
    expect(signal.action).toBe(SignalAction.OPEN_LONG);
    expect(signal.strength).toBeCloseTo(0.6667, 4);
    expect(signal.votes[0]).toMatchObject({ witness: 'w0', side: PositionSide.FLAT, confidence: 0, abstained: true });
    expect(signal.votes[0].reason).toMatch(/^abstained: /);
    expect(lines().some((l) => l.witness === 'w0' && l.level === 40)).toBe(true);
  });

  it('a witness slower than its budget abstains (fixed clock)', () => {
    let now = 0;
    const slow: Script = () => {
      now += 500;
      return short();
    };
    const o = panel([slow, ...goodPair], { witnessBudgetMs: 100, clock: () => now });
    o.step(candleAt(0));
    const [signal] = o.step(candleAt(1));
    expect(signal.action).toBe(SignalAction.OPEN_LONG);
    expect(signal.votes[0]).toMatchObject({ abstained: true, reason: 'abstained: took 500.0 ms, budget 100 ms' });
  });

  it('gives witnesses frozen candles', () => {
    const witness = new ScriptedWitness('spy', () => flat());
    const o = new Orchestrator({ symbol: 'BTCUSDT', interval: '15m', logger: silentLogger, witnesses: [{ witness, weight: 1 }] });
    o.step(candleAt(0));
    const [window] = witness.seen;
    expect(Object.isFrozen(window)).toBe(true);
    expect(Object.isFrozen(window[0])).toBe(true);
  });
});

describe('Orchestrator state', () => {
  it('restores from the last persisted signal and carries on from there', () => {
    const s = together({ 5: long(), 6: flat() });
    const o = panel([s, s], { cooldownCandles: 2 });
    o.restore(stateFromLastSignal({ action: SignalAction.OPEN_LONG, candleTime: new Date(T0 + 5 * STEP_15M) }));
    expect(o.state).toEqual({ position: PositionSide.LONG, lastSignalCandleTime: T0 + 5 * STEP_15M, lastCandleTime: T0 + 5 * STEP_15M });
    expect(o.onCandle(candleAt(5))).toBeNull();
    expect(actions(o, 6, 7)).toEqual(['7:CLOSE']);
  });

  it('starts flat with no signal history', () => {
    expect(stateFromLastSignal(null)).toEqual({ position: PositionSide.FLAT, lastSignalCandleTime: null, lastCandleTime: null });
    expect(stateFromLastSignal({ action: SignalAction.CLOSE, candleTime: 1000 }).position).toBe(PositionSide.FLAT);
  });

  it('does not move the position until a proposed signal is committed', () => {
    const s = together({ 1: long(), 2: long() });
    const o = panel([s, s]);
    o.onCandle(candleAt(0));
    const evaluation = o.onCandle(candleAt(1));
    expect(evaluation?.signals.map((x) => x.action)).toEqual([SignalAction.OPEN_LONG]);
    expect(o.state.position).toBe(PositionSide.FLAT);
    const retry = o.onCandle(candleAt(2));
    expect(retry?.signals.map((x) => x.action)).toEqual([SignalAction.OPEN_LONG]);
    o.commit(retry!.signals[0]);
    expect(o.state).toMatchObject({ position: PositionSide.LONG, lastSignalCandleTime: T0 + 2 * STEP_15M });
  });
});

describe('evaluateOnce', () => {
  it('evaluates the last candle of a window without side effects', () => {
    const candles = loadFixture('golden-uptrend-15m.csv');
    const a = evaluateOnce(candles);
    const b = evaluateOnce(candles);
    expect(a.votes).toHaveLength(4);
    expect(a.signals.map((s) => s.action)).toEqual([SignalAction.OPEN_LONG]);
    expect(b).toEqual(a);
  });
});
