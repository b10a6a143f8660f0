import { SimulatedCandleGenerator } from '../src/engine/market/simulated-candle-generator';
import type { Candle } from '../src/engine/market/candle';
import { evaluateOnce } from '../src/engine/strategy/evaluate-once';
import { emit, median } from './bench-report';

const HISTORY = 1_000;
/** Candles handed to each evaluation: more than any default witness looks back, as the live history is. */
const WINDOW = 300;
const ROUNDS = 5;

/** Cost of one orchestrator evaluation (every witness, consensus, signal building) per closed candle. */
export function benchStrategyEval(): void {
  const candles = new SimulatedCandleGenerator({ seed: 42, interval: '15m', startTime: Date.UTC(2024, 0, 1) }).take(HISTORY);
  const windows: Candle[][] = [];
  for (let end = WINDOW; end <= candles.length; end++) windows.push(candles.slice(end - WINDOW, end));
  for (const w of windows.slice(0, 100)) evaluateOnce(w); // JIT warm-up
  const perCandleMicros: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const started = performance.now();
    for (const w of windows) evaluateOnce(w);
    perCandleMicros.push(((performance.now() - started) * 1000) / windows.length);
  }
  emit({ name: 'strategy-eval', value: median(perCandleMicros), unit: 'µs/candle', bound: null });
}
