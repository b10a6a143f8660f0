import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { Candle, KlineInterval } from '../market/candle';
import { intervalMs } from '../market/candle';
import type { ConsensusRules, Scores } from './consensus';
import { decide } from './consensus';
import type { OrchestratorState, StrategySignal } from './strategy-signal';
import { INITIAL_STATE, positionAfter } from './strategy-signal';
import type { RecordedVote } from './witness';
import { runWitness } from './witness-sandbox';
import type { WeightedWitness } from './witnesses/default-witnesses';
import { defaultWitnesses } from './witnesses/default-witnesses';

export interface OrchestratorConfig {
  symbol: string;
  interval: KlineInterval;
  logger: Logger;
  witnesses?: WeightedWitness[];
  /** Default 0.5. */
  quorum?: number;
  /** Default 0.05. */
  exitQuorum?: number;
  /** Candles after a signal during which no other signal is emitted (whipsaw guard). Default 2. */
  cooldownCandles?: number;
  /** Per-witness time budget. Default 250 ms. */
  witnessBudgetMs?: number;
  /** Monotonic ms clock for the budget; injected in tests. */
  clock?: () => number;
}

export interface Evaluation {
  candle: Candle;
  votes: RecordedVote[];
  scores: Scores;
  inCooldown: boolean;
  /** Proposed in order; the state changes only when each is committed. */
  signals: StrategySignal[];
}

/**
 * Turns witness votes into signals, one closed candle at a time. Deterministic for the same
 * candles, config and state. Evaluating a candle marks it seen (never evaluated twice); the
 * position only moves when the caller commits a signal it has durably emitted, so a failed
 * persist leaves the strategy free to signal again on the next candle.
 */
export class Orchestrator {
  readonly symbol: string;
  readonly interval: KlineInterval;
  private readonly witnesses: WeightedWitness[];
  private readonly rules: ConsensusRules;
  private readonly cooldown: number;
  private readonly budgetMs: number;
  private readonly clock: () => number;
  private readonly logger: Logger;
  private readonly stepMs: number;
  private readonly historySize: number;
  private history: Candle[] = [];
  private current: OrchestratorState = { ...INITIAL_STATE };

  constructor(config: OrchestratorConfig) {
    this.symbol = config.symbol;
    this.interval = config.interval;
    this.stepMs = intervalMs(config.interval);
    this.logger = config.logger;
    this.witnesses = config.witnesses ?? defaultWitnesses();
    this.rules = { quorum: config.quorum ?? 0.5, exitQuorum: config.exitQuorum ?? 0.05 };
    this.cooldown = config.cooldownCandles ?? 2;
    this.budgetMs = config.witnessBudgetMs ?? 250;
    this.clock = config.clock ?? (() => performance.now());
    if (this.witnesses.length === 0) throw new Error('orchestrator needs at least one witness');
    if (new Set(this.witnesses.map((w) => w.witness.name)).size !== this.witnesses.length) throw new Error('witness names must be unique');
    if (this.witnesses.some((w) => !(w.weight > 0) || !Number.isFinite(w.weight))) throw new Error('witness weights must be positive');
    if (!(this.rules.exitQuorum < this.rules.quorum && this.rules.quorum <= 1 && this.rules.quorum > 0)) {
      throw new Error('quorum must be in (0, 1] and exitQuorum below it');
    }
    if (!Number.isInteger(this.cooldown) || this.cooldown < 0) throw new Error('cooldownCandles must be a whole number ≥ 0');
    this.historySize = Math.max(...this.witnesses.map((w) => w.witness.lookback)) + 1;
  }

  get state(): OrchestratorState {
    return { ...this.current };
  }

  /** Restore after a restart (see stateFromLastSignal); history is rebuilt by the feed's warm-up. */
  restore(state: OrchestratorState): void {
    this.current = { ...state };
  }

  /** Adds a candle to the indicator history without evaluating it (start-up history). */
  warmUp(candle: Candle): void {
    this.append(candle);
  }

  /** Evaluates a newly closed candle; null when it is not newer than the last one seen. */
  onCandle(candle: Candle): Evaluation | null {
    const last = this.current.lastCandleTime;
    if (last !== null && candle.openTime <= last) {
      this.logger.info({ openTime: candle.openTime, lastCandleTime: last }, 'candle not newer than the last evaluated one: ignored');
      return null;
    }
    if (!this.append(candle)) return null;
    const evaluation = this.evaluate(this.history, this.current);
    this.current = { ...this.current, lastCandleTime: candle.openTime };
    return evaluation;
  }

  /** Records that a proposed signal was emitted: the strategy now holds its position. */
  commit(signal: StrategySignal): void {
    this.current = { ...this.current, position: positionAfter(signal.action), lastSignalCandleTime: signal.candleTime };
  }

  /** onCandle + commit everything: for backtests and anything with no emit that can fail. */
  step(candle: Candle): StrategySignal[] {
    const evaluation = this.onCandle(candle);
    for (const signal of evaluation?.signals ?? []) this.commit(signal);
    return evaluation?.signals ?? [];
  }

  /**
   * Pure: the decision for the last candle of `candles` given `state`, touching nothing.
   * This is the per-candle cost a benchmark should measure.
   */
  evaluate(candles: readonly Candle[], state: OrchestratorState = this.current): Evaluation {
    const candle = candles[candles.length - 1];
    if (!candle) throw new Error('evaluate needs at least one candle');
    const votes = this.witnesses.map((entry) => {
      const window = Object.freeze(candles.slice(-entry.witness.lookback).map(freezeCandle));
      return runWitness(entry, window, this.budgetMs, this.clock, this.logger);
    });
    const decision = decide(votes, state.position, this.rules);
    const inCooldown =
      state.lastSignalCandleTime !== null && (candle.openTime - state.lastSignalCandleTime) / this.stepMs < this.cooldown;
    const signals: StrategySignal[] = inCooldown
      ? []
      : decision.actions.map(({ action, strength, reason }) => ({
          action,
          symbol: this.symbol,
          interval: this.interval,
          strength,
          referencePrice: candle.close,
          votes: votes.map((v) => ({ ...v })),
          candleTime: candle.openTime,
          reason: `${reason} (${decision.summary})`,
        }));
    if (inCooldown && decision.actions.length > 0) {
      this.logger.info({ openTime: candle.openTime, suppressed: decision.actions.map((a) => a.action) }, 'signal suppressed by cooldown');
    }
    return { candle, votes, scores: decision.scores, inCooldown, signals };
  }

  private append(candle: Candle): boolean {
    const tail = this.history[this.history.length - 1];
    if (tail && candle.openTime <= tail.openTime) {
      this.logger.info({ openTime: candle.openTime, lastOpenTime: tail.openTime }, 'candle not newer than history: ignored');
      return false;
    }
    this.history.push(freezeCandle(candle));
    // Trim in batches so appending stays O(1) amortised.
    if (this.history.length > this.historySize * 2) this.history = this.history.slice(-this.historySize);
    return true;
  }
}

function freezeCandle(candle: Candle): Candle {
  return Object.isFrozen(candle) ? candle : Object.freeze({ ...candle });
}
