import Decimal from 'decimal.js';
import type { RiskLimits } from '../engine/risk/risk-guard';
import type { RiskMonitor } from '../engine/risk/risk-monitor';
import { Role } from '../entities/enums';
import { OWNER_FILTER } from '../entities/owner-filter';
import { User } from '../entities/user.entity';
import { assertAdmin } from './access';
import { badInput, forbidden, notFound } from '../errors/app-error';
import { toRiskEventType, toRiskStateType } from '../schema/mappers/risk.mapper';
import { isUuid } from './ids';
import { pageSize } from './pagination';
import type { SignedInScope } from './scope';

export interface RiskLimitsChange {
  maxDrawdown?: number | null;
  maxDailyLossPct?: number | null;
  maxWeeklyLossPct?: number | null;
  maxConsecutiveLosses?: number | null;
}

const RATIO_LIMITS = ['maxDrawdown', 'maxDailyLossPct', 'maxWeeklyLossPct'] as const;
const LIMIT_WORDS: Record<keyof RiskLimits, string> = {
  maxDrawdown: 'drawdown', maxDailyLossPct: 'daily loss', maxWeeklyLossPct: 'weekly loss', maxConsecutiveLosses: 'losing streak',
};

/** The API side of each user's risk state: what they see, and what an admin may lift. The engine judges and writes. */
export class RiskService {
  constructor(private readonly monitor: RiskMonitor) {}

  async view(scope: SignedInScope) {
    const { state, limits } = await this.monitor.stateOf(scope.em, scope.actor.id);
    return toRiskStateType(state, limits);
  }

  /** Admin: another user's state (the admin console's user detail). */
  async stateOf(scope: SignedInScope, userId: string) {
    assertAdmin(scope);
    const em = scope.em.fork();
    em.setFilterParams(OWNER_FILTER, { userId });
    const { state, limits } = await this.monitor.stateOf(em, userId);
    return toRiskStateType(state, limits);
  }

  /**
   * The user tightens their own limits: each ratio in (0, 1] and at most the
   * platform's default, the streak a whole number from 1 to the default. All
   * checked before anything is written; audited; judged again at once.
   */
  async updateLimits(scope: SignedInScope, input: RiskLimitsChange) {
    const defaults = this.monitor.defaults;
    const change: Partial<Record<keyof RiskLimits, Decimal | number>> = {};
    for (const field of RATIO_LIMITS) {
      const value = input[field];
      if (value === undefined || value === null) continue;
      if (!Number.isFinite(value) || value <= 0 || value > 1) throw badInput(`${field} must be a ratio above 0 and at most 1`, field);
      const ratio = new Decimal(value).toDecimalPlaces(8, Decimal.ROUND_DOWN);
      if (ratio.lte(0)) throw badInput(`${field} must be a ratio above 0 and at most 1`, field);
      if (ratio.gt(defaults[field])) throw badInput(`${field} can only tighten the platform's limit of ${defaults[field].toString()}`, field);
      change[field] = ratio;
    }
    const streak = input.maxConsecutiveLosses;
    if (streak !== undefined && streak !== null) {
      if (!Number.isInteger(streak) || streak < 1) throw badInput('maxConsecutiveLosses must be a whole number of at least 1', 'maxConsecutiveLosses');
      if (streak > defaults.maxConsecutiveLosses) {
        throw badInput(`maxConsecutiveLosses can only tighten the platform's limit of ${defaults.maxConsecutiveLosses}`, 'maxConsecutiveLosses');
      }
      change.maxConsecutiveLosses = streak;
    }
    if (Object.keys(change).length === 0) return this.view(scope);
    const detail = (Object.entries(change) as Array<[keyof RiskLimits, Decimal | number]>)
      .map(([field, value]) => `${LIMIT_WORDS[field]} limit ${field === 'maxConsecutiveLosses' ? value : `${new Decimal(value).times(100).toString()} %`}`)
      .join(', ');
    const { state, limits } = await this.monitor.setLimits(scope.actor.id, change, { ip: scope.ip, detail });
    return toRiskStateType(state, limits);
  }

  /** The signed-in user's own risk history, newest first. */
  async events(scope: SignedInScope, first: number | null | undefined) {
    return (await this.monitor.events(scope.em, scope.actor.id, pageSize(first, 50))).map(toRiskEventType);
  }

  /** Admin: another user's risk history (the admin console's user detail). */
  async eventsOf(scope: SignedInScope, userId: string, first: number | null | undefined) {
    if (scope.actor.role !== Role.ADMIN) throw forbidden('This needs an administrator');
    if (!isUuid(userId)) throw notFound('User');
    const em = scope.em.fork();
    em.setFilterParams('owner', { userId });
    return (await this.monitor.events(em, userId, pageSize(first, 50))).map(toRiskEventType);
  }

  /** Admin: lifts any lock and restarts the figure that locked (see RiskMonitor.unlock); audited. */
  async unlock(scope: SignedInScope, userId: string, reason: string) {
    if (scope.actor.role !== Role.ADMIN) throw forbidden('This needs an administrator');
    if (!isUuid(userId)) throw notFound('User');
    const user = await scope.em.findOne(User, { id: userId });
    if (!user) throw notFound('User');
    const { state, limits } = await this.monitor.unlock(userId, reason, { actorId: scope.actor.id, ip: scope.ip });
    return toRiskStateType(state, limits);
  }
}
