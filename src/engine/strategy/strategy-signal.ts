import { PositionSide, SignalAction } from '../../entities/enums';
import type { KlineInterval } from '../market/candle';
import type { RecordedVote } from './witness';

/** One decision of the strategy, ready to persist (signals table) and publish. */
export interface StrategySignal {
  action: SignalAction;
  symbol: string;
  interval: KlineInterval;
  /** (0, 1], 4 decimals: how strongly the panel agrees; sizing multiplies by it on OPEN. */
  strength: number;
  /** Close of the candle decided on, exact exchange string. */
  referencePrice: string;
  votes: RecordedVote[];
  /** Open time (ms, UTC) of the closed candle decided on; unique per symbol and interval. */
  candleTime: number;
  reason: string;
}

/** What the orchestrator must remember across restarts; all of it derives from the last persisted signal. */
export interface OrchestratorState {
  /** The position the strategy currently wants. */
  position: PositionSide;
  /** Open time of the candle of the last signal (cooldown counts from it). */
  lastSignalCandleTime: number | null;
  /** Open time of the last candle evaluated; anything not newer is ignored. */
  lastCandleTime: number | null;
}

export const INITIAL_STATE: OrchestratorState = Object.freeze({ position: PositionSide.FLAT, lastSignalCandleTime: null, lastCandleTime: null });

export function positionAfter(action: SignalAction): PositionSide {
  switch (action) {
    case SignalAction.OPEN_LONG:
      return PositionSide.LONG;
    case SignalAction.OPEN_SHORT:
      return PositionSide.SHORT;
    case SignalAction.CLOSE:
      return PositionSide.FLAT;
  }
}

/**
 * Restores the state from the newest persisted STRATEGY signal for this symbol and interval
 * (null when there is none). Manual signals are not the strategy's decisions and must not be passed here.
 */
export function stateFromLastSignal(last: { action: SignalAction; candleTime: Date | number | null } | null): OrchestratorState {
  if (!last || last.candleTime === null) return { ...INITIAL_STATE };
  const time = typeof last.candleTime === 'number' ? last.candleTime : last.candleTime.getTime();
  return { position: positionAfter(last.action), lastSignalCandleTime: time, lastCandleTime: time };
}
