import { LockMode } from '@mikro-orm/core';
import Decimal from 'decimal.js';
import type { Logger } from 'pino';
import { PLAN_RULES, TRIAL_DAYS } from '../../domain/plans';
import type { Clock } from '../../engine/ports';
import { SubscriptionPlan, UserStatus } from '../../entities/enums';
import { UserExchangeConfig } from '../../entities/user-exchange-config.entity';
import { User } from '../../entities/user.entity';
import { badInput } from '../../errors/app-error';
import type { AuditService } from '../audit.service';
import type { RateLimits } from '../rate-limits';
import type { SignedInScope } from '../scope';
import { addDays } from './billing-calendar';
import type { BillingNotifier, PlanChangeNotice } from './billing-notifier';
import type { PlanHistory } from './plan-history';

const PLANS = new Set<string>(Object.values(SubscriptionPlan));

/**
 * `changePlan`. Applies at once: the plan history gets a row (billing prorates
 * the subscription and picks the rate from it), an upgrade's larger cap is
 * usable on the next signal, and a downgrade lowers the stored
 * maxPositionPct to the new cap in the same transaction (sizing also clamps
 * to the plan at order time). Audited, mailed, and every node's engine told.
 */
export class PlanService {
  constructor(
    private readonly deps: {
      history: PlanHistory;
      audit: AuditService;
      notifier: BillingNotifier;
      limits: RateLimits<'planChange'>;
      clock: Clock;
      logger: Logger;
      onChanged?: (userId: string) => void;
    },
  ) {}

  async changePlan(scope: SignedInScope, plan: SubscriptionPlan): Promise<User> {
    if (!PLANS.has(plan)) throw badInput(`Unknown plan; choose one of ${[...PLANS].join(', ')}`, 'plan');
    // Each change writes history, an audit row and a mail: a flood is refused before any of it.
    await this.deps.limits.consume('planChange', scope.actor.id);
    const now = this.deps.clock.now();
    const { user, notice } = await scope.em.transactional(async (tx) => {
      // Locked: two changes at once apply one after the other, each against the plan the other left.
      const row = await tx.findOneOrFail(User, { id: scope.actor.id }, { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true });
      if (row.status !== UserStatus.ACTIVE) throw badInput('Verify your email address before choosing a plan', 'plan');
      const previous = row.subscription;
      if (previous === plan) return { user: row, notice: null };
      await this.deps.history.record(tx, row, previous, plan, now, scope.actor.id);
      row.subscription = plan;
      // One trial per account, counted from verification: coming back to FREE never starts another.
      if (plan === SubscriptionPlan.FREE && !row.trialEndsAt) row.trialEndsAt = addDays(row.emailVerifiedAt ?? row.createdAt, TRIAL_DAYS);
      const cap = PLAN_RULES[plan].maxPositionPct;
      const config = await tx.findOne(UserExchangeConfig, { user: row.id });
      let clamped: PlanChangeNotice['maxPositionPct'] = null;
      if (config && new Decimal(config.maxPositionPct).gt(cap)) {
        clamped = { from: new Decimal(config.maxPositionPct).toString(), to: cap.toString() };
        config.maxPositionPct = cap.toFixed();
      }
      this.deps.audit.record(tx, {
        action: 'user.change_plan',
        userId: row.id,
        actorId: scope.actor.id,
        detail: `plan ${previous} → ${plan}` + (clamped ? `; maxPositionPct lowered from ${clamped.from} to the plan's cap ${clamped.to}` : ''),
        ip: scope.ip,
      });
      return { user: row, notice: { from: previous, to: plan, maxPositionPct: clamped } satisfies PlanChangeNotice };
    });
    if (notice) {
      this.deps.onChanged?.(user.id);
      await this.deps.notifier.planChanged(user.id, notice).catch((err: unknown) =>
        this.deps.logger.error({ userId: user.id, err: (err as Error).message }, 'plan-change mail not queued'),
      );
    }
    return user;
  }
}
