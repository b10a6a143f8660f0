import Decimal from 'decimal.js';
import type { RiskLimits } from '../../engine/risk/risk-guard';
import type { RiskEvent } from '../../entities/risk-event.entity';
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

/** A risk event as the user and the admin read it; automatic lifts stored before LIFTED existed read as LIFTED. */
export function toRiskEventType(event: RiskEvent) {
  const kind = event.type === 'UNLOCKED' && !event.actorId ? 'LIFTED' : event.type;
  return { id: event.id, kind, reason: event.detail ?? kind.toLowerCase().replace('_', ' '), createdAt: event.createdAt };
}
