import { PositionSide, SignalAction } from '../../entities/enums';
import type { RecordedVote } from './witness';

export interface ConsensusRules {
  /** Score a side needs to open (or flip to) it. */
  quorum: number;
  /** A held side whose score drops below this is closed. */
  exitQuorum: number;
}

export interface Scores {
  LONG: number;
  SHORT: number;
}

export interface Decision {
  /** In order: a flip is CLOSE then OPEN. */
  actions: { action: SignalAction; strength: number; reason: string }[];
  scores: Scores;
  summary: string;
}

/**
 * score(side) = (support for side − support for the opposite side − FLAT objections) / Σ weights,
 * where support is Σ weight × confidence. Abstainers still count in Σ weights, so a panel where
 * most witnesses are silent cannot reach quorum on one voice. At most one side can score above
 * zero, so the outcome never depends on iteration order.
 */
export function scoreVotes(votes: readonly RecordedVote[]): Scores {
  let total = 0;
  const support = { LONG: 0, SHORT: 0, FLAT: 0 };
  for (const v of votes) {
    total += v.weight;
    if (!v.abstained) support[v.side] += v.weight * v.confidence;
  }
  if (total <= 0) return { LONG: 0, SHORT: 0 };
  return {
    LONG: (support.LONG - support.SHORT - support.FLAT) / total,
    SHORT: (support.SHORT - support.LONG - support.FLAT) / total,
  };
}

const OPEN: Record<'LONG' | 'SHORT', SignalAction> = { LONG: SignalAction.OPEN_LONG, SHORT: SignalAction.OPEN_SHORT };

/** Pure: same votes, position and rules → same actions. Cooldown is applied by the caller. */
export function decide(votes: readonly RecordedVote[], position: PositionSide, rules: ConsensusRules): Decision {
  const scores = scoreVotes(votes);
  const summary = `scores LONG ${scores.LONG.toFixed(3)} / SHORT ${scores.SHORT.toFixed(3)}; ${votes
    .map((v) => `${v.witness} ${v.abstained ? 'abstained' : `${v.side} ${v.confidence.toFixed(2)}`}`)
    .join(', ')}`;
  const actions: Decision['actions'] = [];
  const open = (side: 'LONG' | 'SHORT', why: string) =>
    actions.push({ action: OPEN[side], strength: strengthOf(scores[side]), reason: `${why}: ${side} ${scores[side].toFixed(3)} ≥ quorum ${rules.quorum}` });

  if (position === PositionSide.FLAT) {
    const best = scores.LONG >= scores.SHORT ? 'LONG' : 'SHORT';
    if (scores[best] >= rules.quorum) open(best, 'consensus');
    return { actions, scores, summary };
  }
  const held = position;
  const other = held === PositionSide.LONG ? 'SHORT' : 'LONG';
  if (scores[other] >= rules.quorum) {
    actions.push({ action: SignalAction.CLOSE, strength: strengthOf(scores[other]), reason: `flip ${held} → ${other}: close first` });
    open(other, `flip ${held} → ${other}`);
  } else if (scores[held] < rules.exitQuorum) {
    actions.push({
      action: SignalAction.CLOSE,
      strength: strengthOf(1 - Math.max(0, scores[held])),
      reason: `consensus for ${held} fell away: ${scores[held].toFixed(3)} < exit quorum ${rules.exitQuorum}`,
    });
  }
  return { actions, scores, summary };
}

/** Clamped into (0, 1] at 4 decimals (the signals table's precision). */
function strengthOf(x: number): number {
  return Math.min(1, Math.max(0.0001, Math.round(x * 10_000) / 10_000));
}
