import type { Candle } from '../market/candle';
import { PositionSide } from '../../entities/enums';

/** What one witness thinks of the market after the latest closed candle. */
export interface Vote {
  side: PositionSide;
  /** 0–1. A FLAT vote with confidence > 0 argues against any position; FLAT with 0 is "no opinion". */
  confidence: number;
  /** Human-readable, with the numbers it used. */
  reason: string;
}

/**
 * A small, stateless reader of candles. It gets a frozen window ending at the candle that just
 * closed and must answer from that alone: no state kept between calls, so replaying the same
 * candles (backtest, restart) gives the same votes.
 */
export interface Witness {
  readonly name: string;
  /** Candles it wants to see; it may get fewer while the history warms up, and should then say so by throwing NotEnoughCandlesError. */
  readonly lookback: number;
  evaluate(candles: readonly Candle[]): Vote;
}

/** Thrown by a witness that has not seen enough candles yet: an abstention, not a fault. */
export class NotEnoughCandlesError extends Error {
  constructor(needed: number, got: number) {
    super(`warming up: needs ${needed} candles, has ${got}`);
    this.name = 'NotEnoughCandlesError';
  }
}

/** A vote as recorded on a signal (same shape as the signal entity's stored vote). */
export interface RecordedVote {
  witness: string;
  side: PositionSide;
  confidence: number;
  reason: string;
  weight: number;
  /** True when the witness failed, was too slow, answered nonsense or is warming up; it then counts as FLAT with confidence 0. */
  abstained: boolean;
}

const SIDES = new Set<string>(Object.values(PositionSide));

/** Returns why a vote is unusable, or null when it is fine. */
export function invalidVoteReason(vote: unknown): string | null {
  if (typeof vote !== 'object' || vote === null) return 'vote is not an object';
  const v = vote as Partial<Vote>;
  if (typeof v.side !== 'string' || !SIDES.has(v.side)) return `side ${JSON.stringify(v.side)} is not LONG, SHORT or FLAT`;
  if (typeof v.confidence !== 'number' || !Number.isFinite(v.confidence) || v.confidence < 0 || v.confidence > 1) {
    return `confidence ${String(v.confidence)} is not a number in [0, 1]`;
  }
  if (typeof v.reason !== 'string' || v.reason.trim() === '') return 'reason is empty';
  return null;
}
