import { LockMode } from '@mikro-orm/core';
import { isUuid } from '../../services/ids';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import Decimal from 'decimal.js';
import type { Logger } from 'pino';
import { OWNER_FILTER } from '../../entities/owner-filter';
import { RiskEvent } from '../../entities/risk-event.entity';
import { User } from '../../entities/user.entity';
import { UserRiskState } from '../../entities/user-risk-state.entity';
import { notFound } from '../../errors/app-error';
import type { EventBus } from '../../realtime/event-bus';
import { Topic } from '../../realtime/topics';
import type { EngineMetrics } from '../metrics-port';
import type { AuditService } from '../../services/audit.service';
import type { MailService } from '../../services/mail.service';
import type { SignedInScope } from '../../services/scope';
import { assessRisk, LockKind, nextLossStreak, SELF_LIFTING, startOfIsoWeek, startOfUtcDay, type RiskFigures, type RiskLimits } from './risk-guard';

const dec = (v: string | null) => (v === null ? null : new Decimal(v));

function figuresOf(state: UserRiskState): RiskFigures {
  return {
    equityHighWater: dec(state.equityHighWater),
    dayStart: state.dayStart,
    dayStartEquity: dec(state.dayStartEquity),
    weekStart: state.weekStart,
    weekStartEquity: dec(state.weekStartEquity),
    consecutiveLosses: state.consecutiveLosses,
    isLocked: state.isLocked,
    lockKind: state.lockKind,
  };
}

export interface RiskVerdict {
  locked: boolean;
  reason: string | null;
}

/** The GraphQL shape of a user's risk state (also the riskStateChanged event). */
export function toRiskEvent(state: UserRiskState, limits: RiskLimits) {
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

/** A self-lifting lock whose period has rolled over no longer blocks, even before it is written down. */
export function lockStillHolds(state: Pick<UserRiskState, 'isLocked' | 'lockKind' | 'lockedAt'>, now: Date): boolean {
  if (!state.isLocked) return false;
  if (!state.lockKind || !SELF_LIFTING.has(state.lockKind) || !state.lockedAt) return true;
  const periodStart = state.lockKind === LockKind.DAILY_LOSS ? startOfUtcDay(now) : startOfIsoWeek(now);
  return state.lockedAt >= periodStart;
}

/**
 * Each user's own risk state: judged before every new position and on every
 * balance update, locked when a limit is crossed (risk event, live event, mail),
 * lifted at the next day/week or by an admin.
 */
export class RiskService {
  constructor(
    private readonly deps: {
      orm: MikroORM;
      bus: EventBus;
      mail: MailService;
      audit: AuditService;
      defaults: RiskLimits;
      logger: Logger;
      onChanged: (userId: string) => void;
      metrics?: EngineMetrics;
    },
  ) {}

  limitsOf(state: UserRiskState | null): RiskLimits {
    const d = this.deps.defaults;
    return {
      maxDrawdown: dec(state?.maxDrawdown ?? null) ?? d.maxDrawdown,
      maxDailyLossPct: dec(state?.maxDailyLossPct ?? null) ?? d.maxDailyLossPct,
      maxWeeklyLossPct: dec(state?.maxWeeklyLossPct ?? null) ?? d.maxWeeklyLossPct,
      maxConsecutiveLosses: state?.maxConsecutiveLosses ?? d.maxConsecutiveLosses,
    };
  }

  /** The signed-in user's state; a user never judged yet has the defaults. */
  async view(scope: SignedInScope) {
    const state = (await scope.em.findOne(UserRiskState, { user: scope.actor.id })) ?? this.blank(scope.em, scope.actor.id);
    return toRiskEvent(state, this.limitsOf(state));
  }

  /**
   * Judges the user's equity now. Writes only when something moved (new
   * day/week, new equity peak, a lock or a lift), under a row lock so
   * concurrent judgements of one user serialise.
   */
  async assess(userId: string, equity: Decimal, now = new Date()): Promise<RiskVerdict> {
    const em = this.emFor(userId);
    const result = await em.transactional(async (tx) => {
      const state = await this.lockedRow(tx, userId);
      const limits = this.limitsOf(state);
      const a = assessRisk(figuresOf(state), equity, now, limits);
      Object.assign(state, {
        equityHighWater: a.equityHighWater.toFixed(),
        currentDrawdown: a.currentDrawdown.toDecimalPlaces(8, Decimal.ROUND_DOWN).toFixed(),
        dayStart: a.dayStart,
        dayStartEquity: a.dayStartEquity.toFixed(),
        weekStart: a.weekStart,
        weekStartEquity: a.weekStartEquity.toFixed(),
        dailyLoss: a.dailyLoss.toFixed(),
        weeklyLoss: a.weeklyLoss.toFixed(),
      });
      if (a.lifted) this.unlockRow(tx, state, `${a.lifted.toLowerCase().replace('_', ' ')} lock lifted: a new period began`, null);
      if (a.lock) this.lockRow(tx, state, a.lock.kind, a.lock.reason, { equity: equity.toFixed() });
      return { state, limits, changed: a.lifted !== null || a.lock !== null, locked: a.lock !== null };
    });
    if (result.changed) this.announce(userId, result.state, result.limits, result.locked);
    return { locked: result.state.isLocked, reason: result.state.lockedReason };
  }

  /**
   * The hot-path judgement: from the row routing already loaded, answered in
   * memory when nothing would change (same day and week, no new peak, no lock
   * or lift); otherwise the full, stored `assess`. Displayed figures catch up
   * at the next stored judgement (every reconciliation).
   */
  async check(userId: string, cached: UserRiskState | null, equity: Decimal, now = new Date()): Promise<RiskVerdict> {
    if (cached && cached.dayStart && cached.weekStart && cached.equityHighWater !== null) {
      const a = assessRisk(figuresOf(cached), equity, now, this.limitsOf(cached));
      const quiet =
        !a.lock &&
        !a.lifted &&
        a.dayStart.getTime() === cached.dayStart.getTime() &&
        a.weekStart.getTime() === cached.weekStart.getTime() &&
        a.equityHighWater.eq(cached.equityHighWater);
      if (quiet) return { locked: lockStillHolds(cached, now), reason: cached.lockedReason };
    }
    return this.assess(userId, equity, now);
  }

  /** Closing fills: the realized PnL extends or ends the losing streak; a streak at its limit locks. */
  async recordCloses(userId: string, realizedPnls: Decimal[]): Promise<void> {
    const closes = realizedPnls.filter((p) => !p.isZero());
    if (closes.length === 0) return;
    const em = this.emFor(userId);
    const result = await em.transactional(async (tx) => {
      const state = await this.lockedRow(tx, userId);
      const limits = this.limitsOf(state);
      state.consecutiveLosses = closes.reduce(nextLossStreak, state.consecutiveLosses);
      const lock = !state.isLocked && state.consecutiveLosses >= limits.maxConsecutiveLosses;
      if (lock) {
        this.lockRow(tx, state, LockKind.LOSS_STREAK, `${state.consecutiveLosses} losing closes in a row reached the limit of ${limits.maxConsecutiveLosses}`, null);
      }
      return { state, limits, lock };
    });
    this.deps.bus.publishToUser(Topic.RISK_STATE_CHANGED, userId, toRiskEvent(result.state, result.limits));
    if (result.lock) this.announce(userId, result.state, result.limits, true);
  }

  /**
   * Admin: lifts any lock. The figure that locked restarts from now (peak, day or week baseline,
   * streak), or the next judgement would lock again at once.
   */
  async unlock(scope: SignedInScope, userId: string, reason: string) {
    if (!isUuid(userId)) throw notFound('User');
    const user = await scope.em.findOne(User, { id: userId });
    if (!user) throw notFound('User');
    const em = this.emFor(userId);
    const result = await em.transactional(async (tx) => {
      const state = await this.lockedRow(tx, userId);
      const wasLocked = state.isLocked;
      if (state.lockKind === LockKind.DRAWDOWN && state.equityHighWater !== null) {
        const dd = new Decimal(state.currentDrawdown);
        state.equityHighWater = new Decimal(state.equityHighWater).times(new Decimal(1).minus(dd)).toFixed();
        state.currentDrawdown = '0';
      }
      if (state.lockKind === LockKind.LOSS_STREAK) state.consecutiveLosses = 0;
      // The loss counted so far is forgiven: the period's baseline restarts at today's equity.
      if (state.lockKind === LockKind.DAILY_LOSS && state.dayStartEquity !== null) {
        state.dayStartEquity = new Decimal(state.dayStartEquity).minus(state.dailyLoss).toFixed();
        state.dailyLoss = '0';
      }
      if (state.lockKind === LockKind.WEEKLY_LOSS && state.weekStartEquity !== null) {
        state.weekStartEquity = new Decimal(state.weekStartEquity).minus(state.weeklyLoss).toFixed();
        state.weeklyLoss = '0';
      }
      if (wasLocked) this.unlockRow(tx, state, reason, scope.actor.id);
      this.deps.audit.record(tx, { action: 'admin.unlock_risk', userId, actorId: scope.actor.id, detail: reason, ip: scope.ip });
      return { state, limits: this.limitsOf(state), wasLocked };
    });
    if (result.wasLocked) this.announce(userId, result.state, result.limits, false);
    return toRiskEvent(result.state, result.limits);
  }

  private emFor(userId: string): EntityManager {
    const em = this.deps.orm.em.fork();
    em.setFilterParams(OWNER_FILTER, { userId });
    return em;
  }

  private blank(em: EntityManager, userId: string): UserRiskState {
    const state = new UserRiskState();
    state.user = em.getReference(User, userId);
    return state;
  }

  private async lockedRow(tx: EntityManager, userId: string): Promise<UserRiskState> {
    // tx.execute, not tx.getConnection().execute: the latter takes a second pool connection outside the transaction.
    await tx.execute('insert into user_risk_states (user_id, updated_at) values (?, now()) on conflict (user_id) do nothing', [userId]);
    return tx.findOneOrFail(UserRiskState, { user: userId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
  }

  private lockRow(tx: EntityManager, state: UserRiskState, kind: LockKind, reason: string, data: Record<string, unknown> | null): void {
    Object.assign(state, { isLocked: true, lockKind: kind, lockedReason: reason, lockedAt: new Date(), updatedAt: new Date() });
    tx.create(RiskEvent, { user: state.user, type: 'LOCKED', kind, detail: reason, data });
  }

  private unlockRow(tx: EntityManager, state: UserRiskState, reason: string, actorId: string | null): void {
    const kind = state.lockKind;
    Object.assign(state, { isLocked: false, lockKind: null, lockedReason: null, lockedAt: null, updatedAt: new Date() });
    tx.create(RiskEvent, { user: state.user, type: 'UNLOCKED', kind, detail: reason, actorId });
  }

  private announce(userId: string, state: UserRiskState, limits: RiskLimits, locked: boolean): void {
    this.deps.bus.publishToUser(Topic.RISK_STATE_CHANGED, userId, toRiskEvent(state, limits));
    this.deps.onChanged(userId);
    if (!locked) return;
    this.deps.metrics?.riskLocked(state.lockKind ?? 'unknown');
    void this.deps.orm.em
      .fork()
      .findOne(User, { id: userId })
      .then((user) =>
        user
          ? this.deps.mail.send({
              to: user.email,
              subject: 'Trading paused on your account: risk limit reached',
              text: `No new positions will be opened on your account for now:\n\n${state.lockedReason}\n\nOpen positions can still be closed by the strategy.`,
            })
          : undefined,
      )
      .catch((err) => this.deps.logger.error({ userId, err: (err as Error).message }, 'risk lock mail not sent'));
  }
}
