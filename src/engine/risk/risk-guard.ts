import Decimal from 'decimal.js';

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

const pct = (d: Decimal) => `${d.times(100).toDecimalPlaces(2).toString()}%`;
const money = (d: Decimal) => d.toDecimalPlaces(2).toFixed(2);

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
  const dayStartEquity = newDay ? equity : figures.dayStartEquity!;
  const weekStartEquity = newWeek ? equity : figures.weekStartEquity!;
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
      lock = { kind: LockKind.DRAWDOWN, reason: `drawdown ${pct(currentDrawdown)} from the equity peak ${money(equityHighWater)} reached the ${pct(limits.maxDrawdown)} limit` };
    } else if (weeklyRatio.gte(limits.maxWeeklyLossPct)) {
      lock = { kind: LockKind.WEEKLY_LOSS, reason: `weekly loss ${money(weeklyLoss)} (${pct(weeklyRatio)}) reached the ${pct(limits.maxWeeklyLossPct)} limit` };
    } else if (dailyRatio.gte(limits.maxDailyLossPct)) {
      lock = { kind: LockKind.DAILY_LOSS, reason: `daily loss ${money(dailyLoss)} (${pct(dailyRatio)}) reached the ${pct(limits.maxDailyLossPct)} limit` };
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
