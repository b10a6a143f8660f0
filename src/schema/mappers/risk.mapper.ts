import Decimal from 'decimal.js';
import type { RiskLimits } from '../../engine/risk/risk-guard';
import type { UserRiskState } from '../../entities/user-risk-state.entity';

/** The GraphQL shape of a user's risk state (also the riskStateChanged event). */
export function toRiskStateType(state: UserRiskState, limits: RiskLimits) {
  return {
    currentDrawdown: Number(state.currentDrawdown),
    dailyLoss: new Decimal(state.dailyLoss).toFixed(),
    weeklyLoss: new Decimal(state.weeklyLoss).toFixed(),
    consecutiveLosses: state.consecutiveLosses,
    isLocked: state.isLocked,
    lockedReason: state.lockedReason,
    lockedAt: state.lockedAt,
    limits: {
      maxDrawdown: limits.maxDrawdown.toNumber(),
      maxDailyLossPct: limits.maxDailyLossPct.toNumber(),
      maxWeeklyLossPct: limits.maxWeeklyLossPct.toNumber(),
      maxConsecutiveLosses: limits.maxConsecutiveLosses,
    },
    updatedAt: state.updatedAt,
  };
}
