import type { Witness } from '../witness';
import { BreakoutWitness } from './breakout.witness';
import { MomentumWitness } from './momentum.witness';
import { TrendWitness } from './trend.witness';
import { VolatilityWitness } from './volatility.witness';

export interface WeightedWitness {
  witness: Witness;
  weight: number;
}

/** The production panel. Weights are relative; the orchestrator divides by their sum. */
export function defaultWitnesses(): WeightedWitness[] {
  return [
    { witness: new TrendWitness(), weight: 1 },
    { witness: new MomentumWitness(), weight: 0.8 },
    { witness: new BreakoutWitness(), weight: 0.8 },
    { witness: new VolatilityWitness(), weight: 1 },
  ];
}
