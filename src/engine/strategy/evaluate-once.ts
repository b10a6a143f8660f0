import pino from 'pino';
import type { Candle } from '../market/candle';
import type { Evaluation } from './orchestrator';
import { Orchestrator } from './orchestrator';
import type { OrchestratorState } from './strategy-signal';

let shared: Orchestrator | null = null;

/**
 * One full orchestrator evaluation (every witness on its window, consensus, signal building) for
 * the last candle of `candles`, with the default panel and no side effects: the unit a benchmark
 * times per candle. Pass an orchestrator to measure a custom panel.
 */
export function evaluateOnce(
  candles: readonly Candle[],
  options: { orchestrator?: Orchestrator; state?: OrchestratorState } = {},
): Evaluation {
  const orchestrator =
    options.orchestrator ??
    (shared ??= new Orchestrator({ symbol: 'BTCUSDT', interval: '15m', logger: pino({ level: 'silent' }) }));
  return orchestrator.evaluate(candles, options.state);
}
