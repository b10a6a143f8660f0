import Decimal from 'decimal.js';
import { CAPITAL_KINDS, MovementKind } from '../../entities/account-movement.entity';

export enum LockKind {
  DAILY_LOSS = 'DAILY_LOSS',
  WEEKLY_LOSS = 'WEEKLY_LOSS',
  DRAWDOWN = 'DRAWDOWN',
  LOSS_STREAK = 'LOSS_STREAK',
}

/** Daily and weekly locks lift by themselves at the next UTC day / ISO week; the others need an admin. */
export const SELF_LIFTING: ReadonlySet<string> = new Set([LockKind.DAILY_LOSS, LockKind.WEEKLY_LOSS]);

export interface RiskLimits {
  maxDrawdown: Decimal;
  maxDailyLossPct: Decimal;
  maxWeeklyLossPct: Decimal;
  maxConsecutiveLosses: number;
}

/** A user's own limits as stored (null: the platform's). */
export type OwnLimits = { [K in keyof RiskLimits]?: RiskLimits[K] | null };

/**
 * The limits in force: the stricter of the user's own and the platform's, so a
 * default the operator lowers later binds every user at once, whatever older
 * (then tighter, now looser) limit they stored.
 */
export function effectiveLimits(own: OwnLimits, defaults: RiskLimits): RiskLimits {
  const ratio = (mine: Decimal | null | undefined, platform: Decimal) => (mine ? Decimal.min(mine, platform) : platform);
  return {
    maxDrawdown: ratio(own.maxDrawdown, defaults.maxDrawdown),
    maxDailyLossPct: ratio(own.maxDailyLossPct, defaults.maxDailyLossPct),
    maxWeeklyLossPct: ratio(own.maxWeeklyLossPct, defaults.maxWeeklyLossPct),
    maxConsecutiveLosses: own.maxConsecutiveLosses ? Math.min(own.maxConsecutiveLosses, defaults.maxConsecutiveLosses) : defaults.maxConsecutiveLosses,
  };
}

/** The figures risk is judged on; the entity's columns, as Decimals. */
export interface RiskFigures {
  equityHighWater: Decimal | null;
  dayStart: Date | null;
  dayStartEquity: Decimal | null;
  weekStart: Date | null;
  weekStartEquity: Decimal | null;
  consecutiveLosses: number;
  isLocked: boolean;
  lockKind: string | null;
  /** The equity of the last judgement: what a new day or week starts from. */
  lastEquity?: Decimal | null;
}

export interface RiskAssessment {
  equityHighWater: Decimal;
  currentDrawdown: Decimal;
  dayStart: Date;
  dayStartEquity: Decimal;
  weekStart: Date;
  weekStartEquity: Decimal;
  dailyLoss: Decimal;
  weeklyLoss: Decimal;
  /** A lock that lifts now (its period rolled over). */
  lifted: LockKind | null;
  /** A limit crossed now, when not locked already. */
  lock: { kind: LockKind; reason: string } | null;
}

export function startOfUtcDay(t: Date): Date {
  return new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate()));
}

/** Monday 00:00 UTC of the ISO week containing t. */
export function startOfIsoWeek(t: Date): Date {
  const day = startOfUtcDay(t);
  const sinceMonday = (day.getUTCDay() + 6) % 7;
  return new Date(day.getTime() - sinceMonday * 86_400_000);
}

/** "7.96 %": a measured ratio to two decimals (only printed once it reached its limit, so rounding never shows one that was not). */
const pct = (d: Decimal) => `${d.times(100).toFixed(2, Decimal.ROUND_HALF_UP)} %`;
/** "5 %": a limit as it was set. */
const limitPct = (d: Decimal) => `${d.times(100).toString()} %`;
/** "10,000.00": USDT for a human, to the cent. */
export const money = (d: Decimal) => {
  const [whole, cents] = d.toFixed(2, Decimal.ROUND_HALF_UP).split('.');
  return `${whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${cents}`;
};

/**
 * Money the user moved in or out (a deposit, a withdrawal, a transfer) is
 * neither a profit nor a loss: the high-water mark and the day's and week's
 * starting equity move with it (the day and week only when it happened inside
 * them), so a withdrawal of a quarter of the account is no drawdown and a
 * deposit hides no loss.
 */
export function applyCapitalFlow(figures: RiskFigures, amount: Decimal, at: Date): RiskFigures {
  const move = (v: Decimal | null | undefined) => (v === null || v === undefined ? (v ?? null) : Decimal.max(0, v.plus(amount)));
  return {
    ...figures,
    equityHighWater: move(figures.equityHighWater),
    dayStartEquity: figures.dayStart && at >= figures.dayStart ? move(figures.dayStartEquity) : figures.dayStartEquity,
    weekStartEquity: figures.weekStart && at >= figures.weekStart ? move(figures.weekStartEquity) : figures.weekStartEquity,
    lastEquity: move(figures.lastEquity),
  };
}

/**
 * Judges one user's equity against their limits (DESIGN §4 "Risk"): drawdown
 * from the equity high-water mark, today's loss (UTC day), this ISO week's
 * loss, and consecutive losing closes. Pure: the caller stores and announces.
 */
export function assessRisk(figures: RiskFigures, equity: Decimal, now: Date, limits: RiskLimits): RiskAssessment {
  const today = startOfUtcDay(now);
  const week = startOfIsoWeek(now);
  const newDay = !figures.dayStart || figures.dayStart < today || !figures.dayStartEquity;
  const newWeek = !figures.weekStart || figures.weekStart < week || !figures.weekStartEquity;
  // A new period starts from the equity last seen before it (the loss that opens a day is that day's), or from now for a new user.
  const carried = figures.lastEquity ?? equity;
  const dayStartEquity = newDay ? carried : figures.dayStartEquity!;
  const weekStartEquity = newWeek ? carried : figures.weekStartEquity!;
  const equityHighWater = Decimal.max(figures.equityHighWater ?? equity, equity);
  const currentDrawdown = equityHighWater.gt(0) ? equityHighWater.minus(equity).div(equityHighWater) : new Decimal(0);
  const dailyLoss = Decimal.max(0, dayStartEquity.minus(equity));
  const weeklyLoss = Decimal.max(0, weekStartEquity.minus(equity));

  let lifted: LockKind | null = null;
  if (figures.isLocked && figures.lockKind === LockKind.DAILY_LOSS && newDay) lifted = LockKind.DAILY_LOSS;
  if (figures.isLocked && figures.lockKind === LockKind.WEEKLY_LOSS && newWeek) lifted = LockKind.WEEKLY_LOSS;
  const lockedAfter = figures.isLocked && lifted === null;

  let lock: RiskAssessment['lock'] = null;
  if (!lockedAfter) {
    const dailyRatio = dayStartEquity.gt(0) ? dailyLoss.div(dayStartEquity) : new Decimal(0);
    const weeklyRatio = weekStartEquity.gt(0) ? weeklyLoss.div(weekStartEquity) : new Decimal(0);
    if (currentDrawdown.gte(limits.maxDrawdown)) {
      lock = {
        kind: LockKind.DRAWDOWN,
        reason: `drawdown ${pct(currentDrawdown)} from the equity high-water mark ${money(equityHighWater)} USDT (equity ${money(equity)}), limit ${limitPct(limits.maxDrawdown)}`,
      };
    } else if (weeklyRatio.gte(limits.maxWeeklyLossPct)) {
      lock = {
        kind: LockKind.WEEKLY_LOSS,
        reason: `weekly loss ${money(weeklyLoss)} USDT = ${pct(weeklyRatio)} of start-of-week equity ${money(weekStartEquity)}, limit ${limitPct(limits.maxWeeklyLossPct)}`,
      };
    } else if (dailyRatio.gte(limits.maxDailyLossPct)) {
      lock = {
        kind: LockKind.DAILY_LOSS,
        reason: `daily loss ${money(dailyLoss)} USDT = ${pct(dailyRatio)} of start-of-day equity ${money(dayStartEquity)}, limit ${limitPct(limits.maxDailyLossPct)}`,
      };
    } else if (figures.consecutiveLosses >= limits.maxConsecutiveLosses) {
      lock = { kind: LockKind.LOSS_STREAK, reason: `${figures.consecutiveLosses} losing closes in a row reached the limit of ${limits.maxConsecutiveLosses}` };
    }
  }
  return { equityHighWater, currentDrawdown, dayStart: today, dayStartEquity, weekStart: week, weekStartEquity, dailyLoss, weeklyLoss, lifted, lock };
}

/** A losing close extends the streak, a winning one ends it, a flat one changes nothing. */
export function nextLossStreak(current: number, realizedPnl: Decimal): number {
  if (realizedPnl.lt(0)) return current + 1;
  if (realizedPnl.gt(0)) return 0;
  return current;
}

/** What one ledger event tells risk (see RiskMonitor for where each comes from). */
export interface RiskChange {
  /** The account's equity now (a balance change, an equity read before an OPEN). */
  equity?: Decimal;
  /** Money that moved the equity without a new equity figure (a fill's PnL and fee, funding). */
  equityDelta?: Decimal;
  /** Money the user moved in or out: the marks move with it. */
  capital?: { amount: Decimal; at: Date };
  /** A close's net result: extends or ends the losing streak. */
  close?: Decimal;
}

/**
 * What one recorded movement tells risk. Only money we know the user moved (a
 * deposit, a withdrawal, a transfer) moves the marks; funding moves the equity
 * like a result. A movement we cannot name (Binance's INSURANCE_CLEAR, a reason
 * added after our mapping) fails safe: money out counts as a loss, money in as
 * capital, so an unknown can only lock earlier, never hide or offset a loss.
 * Realized PnL and commission say nothing here: they come as the fill.
 */
export function movementChange(kind: MovementKind, usdtValue: Decimal | null, at: Date): RiskChange | null {
  if (usdtValue === null || usdtValue.isZero()) return null;
  if (CAPITAL_KINDS.has(kind)) return { capital: { amount: usdtValue, at } };
  if (kind === MovementKind.FUNDING_FEE) return { equityDelta: usdtValue };
  if (kind === MovementKind.OTHER) return usdtValue.lt(0) ? { equityDelta: usdtValue } : { capital: { amount: usdtValue, at } };
  return null;
}

export interface RiskStep {
  figures: RiskFigures;
  /** The equity judged (null: none known yet, only the streak counts). */
  equity: Decimal | null;
  assessment: RiskAssessment | null;
  /** Without an equity figure only the streak can lock. */
  streakLock: { kind: LockKind; reason: string } | null;
}

/**
 * One event's step of a user's risk state machine: capital moves the marks, a
 * close moves the streak, and the equity (given, or the last one moved by the
 * event's money) is judged against the limits. Pure: the caller stores and announces.
 */
export function stepRisk(before: RiskFigures, change: RiskChange, now: Date, limits: RiskLimits): RiskStep {
  let figures = before;
  if (change.capital) figures = applyCapitalFlow(figures, change.capital.amount, change.capital.at);
  if (change.close) figures = { ...figures, consecutiveLosses: nextLossStreak(figures.consecutiveLosses, change.close) };
  const equity = change.equity ?? (figures.lastEquity ? figures.lastEquity.plus(change.equityDelta ?? 0) : null);
  if (equity === null) {
    const streakLock = !figures.isLocked && figures.consecutiveLosses >= limits.maxConsecutiveLosses
      ? { kind: LockKind.LOSS_STREAK, reason: `${figures.consecutiveLosses} losing closes in a row reached the limit of ${limits.maxConsecutiveLosses}` }
      : null;
    return { figures, equity, assessment: null, streakLock };
  }
  const assessment = assessRisk(figures, equity, now, limits);
  const lockedAfter = assessment.lock !== null || (figures.isLocked && assessment.lifted === null);
  return {
    figures: {
      ...figures,
      equityHighWater: assessment.equityHighWater,
      dayStart: assessment.dayStart,
      dayStartEquity: assessment.dayStartEquity,
      weekStart: assessment.weekStart,
      weekStartEquity: assessment.weekStartEquity,
      lastEquity: equity,
      isLocked: lockedAfter,
      lockKind: assessment.lock ? assessment.lock.kind : lockedAfter ? figures.lockKind : null,
    },
    equity,
    assessment,
    streakLock: null,
  };
}
