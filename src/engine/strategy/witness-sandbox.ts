import type { Logger } from 'pino';
import { PositionSide } from '../../entities/enums';
import type { Candle } from '../market/candle';
import type { WeightedWitness } from './witnesses/default-witnesses';
import type { RecordedVote } from './witness';
import { invalidVoteReason, NotEnoughCandlesError } from './witness';

const MAX_REASON_LENGTH = 500;

/**
 * Runs one witness so that nothing it does can hurt the orchestrator: a throw, a malformed or
 * NaN vote, or an answer later than the budget all become an abstention (FLAT, confidence 0),
 * logged with the witness's name. Evaluation is synchronous, so a slow witness cannot be cut
 * off mid-way; its late answer is discarded instead, which keeps the decision independent of
 * how loaded the machine was only up to the budget (keep the budget generous).
 */
export function runWitness(
  { witness, weight }: WeightedWitness,
  window: readonly Candle[],
  budgetMs: number,
  clock: () => number,
  logger: Logger,
): RecordedVote {
  const name = String(witness.name);
  const abstain = (reason: string): RecordedVote => ({ witness: name, side: PositionSide.FLAT, confidence: 0, reason, weight, abstained: true });
  const started = clock();
  let raw: unknown;
  try {
    raw = witness.evaluate(window);
  } catch (err) {
    if (err instanceof NotEnoughCandlesError) return abstain(`abstained: ${err.message}`);
    logger.warn({ err, witness: name }, 'witness threw; abstaining');
    return abstain(`abstained: threw ${err instanceof Error ? err.message : String(err)}`.slice(0, MAX_REASON_LENGTH));
  }
  const elapsed = clock() - started;
  if (elapsed > budgetMs) {
    logger.warn({ witness: name, elapsedMs: elapsed, budgetMs }, 'witness exceeded its time budget; abstaining');
    return abstain(`abstained: took ${elapsed.toFixed(1)} ms, budget ${budgetMs} ms`);
  }
  const problem = invalidVoteReason(raw);
  if (problem) {
    logger.warn({ witness: name, problem }, 'witness returned an invalid vote; abstaining');
    return abstain(`abstained: invalid vote (${problem})`);
  }
  const vote = raw as { side: PositionSide; confidence: number; reason: string };
  // Copy the fields: the witness keeps no reference into what we record.
  return { witness: name, side: vote.side, confidence: vote.confidence, reason: vote.reason.slice(0, MAX_REASON_LENGTH), weight, abstained: false };
}
