import { LockMode } from '@mikro-orm/core';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import Decimal from 'decimal.js';
import type { Logger } from 'pino';
import { OWNER_FILTER } from '../../entities/owner-filter';
import { RiskEvent } from '../../entities/risk-event.entity';
import { User } from '../../entities/user.entity';
import { UserRiskState } from '../../entities/user-risk-state.entity';
import type { EngineEvents } from '../engine-events';
import type { JournaledEvent, Ledger } from '../ledger/ledger';
import type { EngineMetrics } from '../metrics-port';
import { systemWallClock, type AuditTrail, type Clock, type RiskNotifier } from '../ports';
import {
  assessRisk, effectiveLimits, LockKind, movementChange, SELF_LIFTING, startOfIsoWeek, startOfUtcDay, stepRisk, type RiskChange, type RiskFigures,
  type RiskLimits,
} from './risk-guard';

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
    lastEquity: dec(state.lastEquity),
  };
}

export interface RiskVerdict {
  /** No new OPEN: the user is locked, or their state could not be judged (an OPEN fails closed). */
  locked: boolean;
  reason: string | null;
  /** The state could not be judged at all: `reason` says why, and it is no lock. */
  unjudged?: boolean;
}

const unjudged = (why: string): RiskVerdict => ({ locked: true, unjudged: true, reason: `risk state could not be checked: ${why}` });

/**
 * Pauses before each new try of a ledger event whose judgement failed (the
 * database restarting, a deadlock): about 30 s in all, the user's later events
 * waiting behind it so their order holds.
 */
const RETRY_DELAYS_MS = [500, 1_000, 2_000, 4_000, 8_000, 15_000];
/** The longest an OPEN waits for its risk judgement before it is refused (well inside a user task's time). */
const OPEN_CHECK_TIMEOUT_MS = 5_000;
/** A journaled event is caught up only once its own judgement has had this long to claim it. */
const CATCH_UP_GRACE_MS = 60_000;
const CATCH_UP_BATCH = 500;
/** Judged journal entries are kept this long for operators. */
const JOURNAL_KEPT_MS = 7 * 86_400_000;

type Transition = 'LOCKED' | 'LIFTED' | 'UNLOCKED' | null;

/** A self-lifting lock whose period has rolled over no longer blocks, even before it is written down. */
export function lockStillHolds(state: Pick<UserRiskState, 'isLocked' | 'lockKind' | 'lockedAt'>, now: Date): boolean {
  if (!state.isLocked) return false;
  if (!state.lockKind || !SELF_LIFTING.has(state.lockKind) || !state.lockedAt) return true;
  const periodStart = state.lockKind === LockKind.DAILY_LOSS ? startOfUtcDay(now) : startOfIsoWeek(now);
  return state.lockedAt >= periodStart;
}

/**
 * The engine side of each user's own risk state (its only writer). Judged on
 * every ledger event of that user, one after the other in the order they were
 * emitted, each in one transaction with the state it changes, and before every
 * OPEN against the equity being sized from. Crossing a limit locks (risk
 * event, live event, mail) within the event's own round trip; daily and weekly
 * locks lift at the next UTC day / ISO week, the others by an admin.
 */
export class RiskMonitor {
  private readonly queues = new Map<string, Promise<unknown>>();
  /** Users with a ledger event waiting to be tried again: their stored state is behind. */
  private readonly retrying = new Set<string>();
  private dropped = 0;

  constructor(
    private readonly deps: {
      orm: MikroORM;
      events: EngineEvents;
      notifier: RiskNotifier;
      audit: AuditTrail;
      defaults: RiskLimits;
      logger: Logger;
      clock?: Clock;
      metrics?: Pick<EngineMetrics, 'riskLocked'>;
      /** The ledger's journal: each event is claimed in the transaction that judges it, and what no judgement claimed is caught up. */
      journal?: Pick<Ledger, 'claimJudgement' | 'unjudgedEvents' | 'pruneJournal'>;
      /** Tests shorten these. */
      retryDelaysMs?: readonly number[];
      openCheckTimeoutMs?: number;
    },
  ) {
    const { events } = deps;
    const judge = (e: JournaledEvent) => void this.judgeEvent(e);
    events.on('BalanceChanged', judge);
    events.on('FillRecorded', judge);
    events.on('PositionClosed', judge);
    events.on('MovementRecorded', judge);
  }

  /** A ledger event, as emitted after its commit or as caught up from the journal. */
  private judgeEvent(event: JournaledEvent): Promise<RiskVerdict> | undefined {
    const change = changeOf(event);
    // An event that moves nothing is still claimed, or the catch-up would hand it back for ever.
    if (!change && !event.seq) return undefined;
    return this.enqueue(event.userId, change ?? {}, event.seq);
  }

  /**
   * Judges, in journal order, every ledger event that no judgement claimed
   * within `graceMs` of being journaled: lost to a crash between the ledger's
   * commit and its judgement, or dropped after every retry while the database
   * was away. Each is judged once (the claim), at the time it is caught up.
   * Judged entries older than a week are dropped. Returns how many it judged.
   */
  async catchUp(graceMs = CATCH_UP_GRACE_MS): Promise<number> {
    const { journal } = this.deps;
    if (!journal) return 0;
    const before = new Date(Date.now() - graceMs);
    let judged = 0;
    // Forward through the journal: what fails again (the database away again) waits for the next pass.
    let afterSeq: string | undefined;
    for (;;) {
      const batch = await journal.unjudgedEvents(before, CATCH_UP_BATCH, afterSeq);
      if (batch.length === 0) break;
      await Promise.all(batch.map((e) => this.judgeEvent(e)));
      judged += batch.length;
      afterSeq = batch[batch.length - 1].seq;
      if (batch.length < CATCH_UP_BATCH) break;
    }
    if (judged > 0) this.deps.logger.warn({ judged }, 'risk judged ledger events that no judgement had claimed');
    await journal.pruneJournal(new Date(Date.now() - JOURNAL_KEPT_MS));
    return judged;
  }

  /** Ledger events whose judgement still failed after every retry (each one logged): the state missed them. */
  get droppedEvents(): number {
    return this.dropped;
  }

  private get now(): Date {
    return (this.deps.clock ?? systemWallClock).now();
  }

  /** The limits in force for this user: their own where stricter, the platform's otherwise (see effectiveLimits). */
  limitsOf(state: UserRiskState | null): RiskLimits {
    return effectiveLimits(
      {
        maxDrawdown: dec(state?.maxDrawdown ?? null),
        maxDailyLossPct: dec(state?.maxDailyLossPct ?? null),
        maxWeeklyLossPct: dec(state?.maxWeeklyLossPct ?? null),
        maxConsecutiveLosses: state?.maxConsecutiveLosses ?? null,
      },
      this.deps.defaults,
    );
  }

  get defaults(): RiskLimits {
    return this.deps.defaults;
  }

  /** A user's state; a user never judged yet has the defaults. */
  async stateOf(em: EntityManager, userId: string): Promise<{ state: UserRiskState; limits: RiskLimits }> {
    const state = (await em.findOne(UserRiskState, { user: userId })) ?? this.blank(em, userId);
    return { state, limits: this.limitsOf(state) };
  }

  /**
   * Judges the user's equity now (before an OPEN), in order with the user's
   * pending events. Fails closed: a state that cannot be judged (the database
   * down, an earlier event still being retried, no answer in time) refuses the
   * OPEN with the reason. Tried once: a signal cannot wait for retries.
   */
  async assess(userId: string, equity: Decimal): Promise<RiskVerdict> {
    if (this.retrying.has(userId)) return unjudged('an earlier account event is still waiting to be judged');
    const judged = this.serially(userId, () => this.apply(userId, { equity })).catch((err) => {
      this.deps.logger.error({ userId, err }, 'risk judgement before an OPEN failed; the OPEN is refused');
      return unjudged('a temporary error; this OPEN was not placed');
    });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<RiskVerdict>((resolve) => {
      timer = setTimeout(() => resolve(unjudged('no answer in time; this OPEN was not placed')), this.deps.openCheckTimeoutMs ?? OPEN_CHECK_TIMEOUT_MS);
    });
    try {
      return await Promise.race([judged, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * The hot-path judgement: from the row routing already loaded, answered in
   * memory when nothing would change (same day and week, no new peak, no lock
   * or lift); otherwise the full, stored `assess`.
   */
  async check(userId: string, cached: UserRiskState | null, equity: Decimal): Promise<RiskVerdict> {
    const now = this.now;
    // The cached row is only as fresh as the last event judged: while one waits for a retry it is not to be trusted.
    if (cached && cached.dayStart && cached.weekStart && cached.equityHighWater !== null && !this.retrying.has(userId)) {
      const a = assessRisk(figuresOf(cached), equity, now, this.limitsOf(cached));
      const quiet =
        !a.lock && !a.lifted && a.dayStart.getTime() === cached.dayStart.getTime() && a.weekStart.getTime() === cached.weekStart.getTime() &&
        a.equityHighWater.eq(cached.equityHighWater);
      if (quiet) return { locked: lockStillHolds(cached, now), reason: cached.lockedReason };
    }
    return this.assess(userId, equity);
  }

  /**
   * The day/week boundary job: every self-lifting lock whose period is over is
   * lifted now (event, live update, mail), without waiting for a signal.
   * Returns how many were lifted.
   */
  async liftExpired(): Promise<number> {
    const now = this.now;
    const rows = await this.deps.orm.em.fork().find(
      UserRiskState,
      { isLocked: true, lockKind: { $in: [...SELF_LIFTING] } },
      { filters: { [OWNER_FILTER]: false }, fields: ['user', 'lockKind', 'lockedAt', 'isLocked'] },
    );
    const due = rows.filter((r) => !lockStillHolds(r, now));
    const results = await Promise.all(due.map((r) => this.enqueue(r.user.id, {})));
    return results.filter((r) => !r.locked).length;
  }

  /** Admin: lifts any lock; the figure that locked restarts from now (peak, day or week baseline, streak), or the next judgement would lock again at once. */
  async unlock(userId: string, reason: string, by: { actorId: string; ip: string | null }): Promise<{ state: UserRiskState; limits: RiskLimits }> {
    return this.serially(userId, async () => {
      const result = await this.emFor(userId).transactional(async (tx) => {
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
        if (wasLocked) this.unlockRow(tx, state, 'UNLOCKED', reason, by.actorId);
        this.deps.audit.record(tx, { action: 'admin.unlock_risk', userId, actorId: by.actorId, detail: reason, ip: by.ip });
        return { state, limits: this.limitsOf(state), transition: (wasLocked ? 'UNLOCKED' : null) as Transition };
      });
      this.announce(userId, result.state, result.limits, result.transition);
      return { state: result.state, limits: result.limits };
    });
  }

  /** The user's own limits (only ever tighter than the platform's; the caller validates), judged again at once. */
  async setLimits(userId: string, limits: Partial<Record<keyof RiskLimits, Decimal | number>>, by: { ip: string | null; detail: string }) {
    return this.serially(userId, async () => {
      const result = await this.emFor(userId).transactional(async (tx) => {
        const state = await this.lockedRow(tx, userId);
        if (limits.maxDrawdown !== undefined) state.maxDrawdown = new Decimal(limits.maxDrawdown).toFixed();
        if (limits.maxDailyLossPct !== undefined) state.maxDailyLossPct = new Decimal(limits.maxDailyLossPct).toFixed();
        if (limits.maxWeeklyLossPct !== undefined) state.maxWeeklyLossPct = new Decimal(limits.maxWeeklyLossPct).toFixed();
        if (limits.maxConsecutiveLosses !== undefined) state.maxConsecutiveLosses = Number(limits.maxConsecutiveLosses);
        state.updatedAt = this.now;
        tx.create(RiskEvent, { user: state.user, type: 'LIMITS_CHANGED', detail: by.detail });
        this.deps.audit.record(tx, { action: 'risk.limits_changed', userId, actorId: userId, detail: by.detail, ip: by.ip });
        const transition = this.judge(tx, state, {}, this.now);
        return { state, limits: this.limitsOf(state), transition };
      });
      this.announce(userId, result.state, result.limits, result.transition, true);
      return { state: result.state, limits: result.limits };
    });
  }

  /** Newest first: locks, lifts, unlocks and limit changes. */
  events(em: EntityManager, userId: string, first: number): Promise<RiskEvent[]> {
    return em.find(RiskEvent, { user: userId }, { orderBy: { createdAt: 'desc', id: 'desc' }, limit: first });
  }

  /** Resolves once every judgement queued so far (retries included) has finished. */
  async whenIdle(): Promise<void> {
    while (this.queues.size > 0) await Promise.allSettled([...this.queues.values()]);
  }

  /**
   * One user's ledger events are applied one after the other, in the order
   * they were emitted. A judgement that fails is tried again after a pause,
   * holding the user's later events behind it: a lost close would undercount
   * the streak, a lost deposit would later read as profit. One that still
   * fails is dropped, logged with what it carried and counted.
   */
  private enqueue(userId: string, change: RiskChange, seq?: string): Promise<RiskVerdict> {
    return this.serially(userId, async () => {
      const delays = this.deps.retryDelaysMs ?? RETRY_DELAYS_MS;
      // Every try judges at the time of the first, however late it commits (a loss at 23:59 stays that day's).
      const now = this.now;
      try {
        for (let attempt = 0; ; attempt++) {
          try {
            return await this.apply(userId, change, now, seq);
          } catch (err) {
            if (attempt >= delays.length) throw err;
            this.retrying.add(userId);
            this.deps.logger.warn({ userId, err, attempt: attempt + 1 }, 'risk judgement failed; trying again');
            // Unref'd: a pending retry never holds a stopping process open.
            await new Promise((resolve) => setTimeout(resolve, delays[attempt]).unref());
          }
        }
      } finally {
        this.retrying.delete(userId);
      }
    }).catch((err) => {
      this.dropped += 1;
      // Dropped here, not lost: a journaled event stays unclaimed and the next catch-up judges it.
      this.deps.logger.error({ userId, err, change: describeChange(change), seq, dropped: this.dropped }, 'risk judgement failed after every retry; the event is dropped');
      return unjudged('a temporary error');
    });
  }

  private serially<T>(userId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(userId) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(work);
    this.queues.set(userId, next);
    void next.finally(() => {
      if (this.queues.get(userId) === next) this.queues.delete(userId);
    }).catch(() => undefined);
    return next;
  }

  /** One try: the judgement commits with the state it changes; only then is it announced (never twice). */
  private async apply(userId: string, change: RiskChange, now = this.now, seq?: string): Promise<RiskVerdict> {
    const result = await this.emFor(userId).transactional(async (tx) => {
      const state = await this.lockedRow(tx, userId);
      // Judged already (by a catch-up, or on another node): the state has it, nothing moves twice.
      if (seq && this.deps.journal && !(await this.deps.journal.claimJudgement(tx, seq))) {
        return { state, limits: this.limitsOf(state), transition: null as Transition, moved: false };
      }
      const before = JSON.stringify([state.currentDrawdown, state.dailyLoss, state.weeklyLoss, state.consecutiveLosses, state.isLocked]);
      const transition = this.judge(tx, state, change, now);
      const after = JSON.stringify([state.currentDrawdown, state.dailyLoss, state.weeklyLoss, state.consecutiveLosses, state.isLocked]);
      return { state, limits: this.limitsOf(state), transition, moved: before !== after };
    });
    try {
      this.announce(userId, result.state, result.limits, result.transition, result.moved);
    } catch (err) {
      this.deps.logger.error({ userId, err }, 'risk change committed but could not be announced');
    }
    return { locked: lockStillHolds(result.state, now), reason: result.state.lockedReason };
  }

  /** The state machine's step (stepRisk) on the locked row: figures written, then the lift and the lock it decided. */
  private judge(tx: EntityManager, state: UserRiskState, change: RiskChange, now: Date): Transition {
    const limits = this.limitsOf(state);
    const step = stepRisk(figuresOf(state), change, now, limits);
    const f = step.figures;
    Object.assign(state, {
      equityHighWater: f.equityHighWater?.toFixed() ?? null,
      dayStart: f.dayStart,
      dayStartEquity: f.dayStartEquity?.toFixed() ?? null,
      weekStart: f.weekStart,
      weekStartEquity: f.weekStartEquity?.toFixed() ?? null,
      consecutiveLosses: f.consecutiveLosses,
      lastEquity: f.lastEquity?.toFixed() ?? null,
      updatedAt: now,
    });
    if (step.streakLock) {
      this.lockRow(tx, state, step.streakLock.kind, step.streakLock.reason, null, now);
      return 'LOCKED';
    }
    const a = step.assessment;
    if (!a || !step.equity) return null;
    Object.assign(state, {
      currentDrawdown: a.currentDrawdown.toDecimalPlaces(8, Decimal.ROUND_DOWN).toFixed(),
      dailyLoss: a.dailyLoss.toFixed(),
      weeklyLoss: a.weeklyLoss.toFixed(),
    });
    let transition: Transition = null;
    if (a.lifted) {
      const period = a.lifted === LockKind.DAILY_LOSS ? 'a new UTC day began' : 'a new ISO week began';
      this.unlockRow(tx, state, 'LIFTED', `${a.lifted === LockKind.DAILY_LOSS ? 'daily' : 'weekly'} loss lock lifted: ${period}`, null);
      transition = 'LIFTED';
    }
    if (a.lock) {
      this.lockRow(tx, state, a.lock.kind, a.lock.reason, { equity: step.equity.toFixed() }, now);
      transition = 'LOCKED';
    }
    return transition;
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

  private lockRow(tx: EntityManager, state: UserRiskState, kind: LockKind, reason: string, data: Record<string, unknown> | null, now: Date): void {
    Object.assign(state, { isLocked: true, lockKind: kind, lockedReason: reason, lockedAt: now, updatedAt: now });
    tx.create(RiskEvent, { user: state.user, type: 'LOCKED', kind, detail: reason, data });
    this.deps.audit.record(tx, { action: 'risk.locked', userId: state.user.id, detail: reason });
  }

  private unlockRow(tx: EntityManager, state: UserRiskState, type: 'LIFTED' | 'UNLOCKED', reason: string, actorId: string | null): void {
    const kind = state.lockKind;
    Object.assign(state, { isLocked: false, lockKind: null, lockedReason: null, lockedAt: null, updatedAt: this.now });
    tx.create(RiskEvent, { user: state.user, type, kind, detail: reason, actorId });
    if (type === 'LIFTED') this.deps.audit.record(tx, { action: 'risk.lifted', userId: state.user.id, detail: reason });
  }

  private announce(userId: string, state: UserRiskState, limits: RiskLimits, transition: Transition, moved = false): void {
    if (transition || moved) this.deps.events.emit({ type: 'RiskStateChanged', userId, state, limits, transition });
    // No cluster-wide "user changed" here: routing reads the lock from the database for every signal, and dropping
    // the user's cached exchange context would close the very stream that is watching their loss.
    if (!transition) return;
    if (transition === 'LOCKED') {
      this.deps.metrics?.riskLocked(state.lockKind ?? 'unknown');
      this.deps.notifier.riskLocked(userId, state.lockedReason ?? 'a risk limit was reached');
    }
    else this.deps.notifier.riskLifted(userId, transition === 'LIFTED' ? 'a new period began' : 'an administrator lifted it');
  }
}

/** An event's content for the log line of a dropped judgement (strings, not Decimal objects). */
function describeChange(change: RiskChange): Record<string, string> {
  const out: Record<string, string> = {};
  if (change.equity) out.equity = change.equity.toFixed();
  if (change.equityDelta) out.equityDelta = change.equityDelta.toFixed();
  if (change.capital) out.capital = `${change.capital.amount.toFixed()} at ${change.capital.at.toISOString()}`;
  if (change.close) out.close = change.close.toFixed();
  return out;
}

/** What a ledger event changes in the user's risk figures (null: nothing). */
function changeOf(event: JournaledEvent): RiskChange | null {
  switch (event.type) {
    case 'BalanceChanged':
      return { equity: event.equity };
    // A fill's realized PnL was already in the equity as unrealized PnL (equity = wallet + unrealized): only its fee moves it.
    // The balance change that follows on the stream (or the reconciler's read) then gives the exact figure.
    case 'FillRecorded':
      return { equityDelta: (event.commissionUsdt ?? new Decimal(0)).neg() };
    case 'PositionClosed':
      return { close: event.netPnl };
    case 'MovementRecorded':
      return movementChange(event.kind, event.usdtValue, event.occurredAt);
  }
}
