import Decimal from 'decimal.js';
import { assessRisk, effectiveLimits, LockKind, nextLossStreak, startOfIsoWeek, type RiskFigures, type RiskLimits } from '../../src/engine/risk/risk-guard';

const LIMITS: RiskLimits = {
  maxDrawdown: new Decimal('0.20'),
  maxDailyLossPct: new Decimal('0.05'),
  maxWeeklyLossPct: new Decimal('0.10'),
  maxConsecutiveLosses: 3,
};
const d = (v: string) => new Decimal(v);
// Wednesday 2026-11-25, 10:00 UTC; its ISO week began Monday 2026-11-23.
const WED = new Date('2026-11-25T10:00:00Z');
const fresh: RiskFigures = {
  equityHighWater: null, dayStart: null, dayStartEquity: null, weekStart: null, weekStartEquity: null,
  consecutiveLosses: 0, isLocked: false, lockKind: null,
};
const started = (over: Partial<RiskFigures> = {}): RiskFigures => ({
  ...fresh,
  equityHighWater: d('10000'),
  dayStart: new Date('2026-11-25T00:00:00Z'),
  dayStartEquity: d('10000'),
  weekStart: new Date('2026-11-23T00:00:00Z'),
  weekStartEquity: d('10000'),
  ...over,
});

describe('risk guard', () => {
  it('starts the day, the week and the high-water mark at the first equity it sees', () => {
    const a = assessRisk(fresh, d('10000'), WED, LIMITS);
    expect(a.dayStart.toISOString()).toBe('2026-11-25T00:00:00.000Z');
    expect(a.weekStart.toISOString()).toBe('2026-11-23T00:00:00.000Z');
    expect(a.equityHighWater.toString()).toBe('10000');
    expect(a.lock).toBeNull();
  });

  it('weeks start on Monday (ISO), also from a Sunday', () => {
    expect(startOfIsoWeek(new Date('2026-11-29T23:59:59Z')).toISOString()).toBe('2026-11-23T00:00:00.000Z');
    expect(startOfIsoWeek(new Date('2026-11-30T00:00:00Z')).toISOString()).toBe('2026-11-30T00:00:00.000Z');
  });

  it('locks on the daily loss at the limit, with the numbers in the reason', () => {
    expect(assessRisk(started(), d('9501'), WED, LIMITS).lock).toBeNull();
    const a = assessRisk(started(), d('9500'), WED, LIMITS);
    expect(a.lock).toEqual({ kind: LockKind.DAILY_LOSS, reason: 'daily loss 500.00 USDT = 5.00 % of start-of-day equity 10,000.00, limit 5 %' });
    expect(a.dailyLoss.toString()).toBe('500');
  });

  it('measures the weekly loss from the week start, not the day start', () => {
    const a = assessRisk(started({ dayStartEquity: d('9200') }), d('9000'), WED, LIMITS);
    expect(a.lock?.kind).toBe(LockKind.WEEKLY_LOSS);
    expect(a.weeklyLoss.toString()).toBe('1000');
  });

  it('locks on drawdown from the equity peak, which only ever rises', () => {
    const peak = assessRisk(started(), d('12000'), WED, LIMITS);
    expect(peak.equityHighWater.toString()).toBe('12000');
    const a = assessRisk(started({ equityHighWater: d('12000'), dayStartEquity: d('9700'), weekStartEquity: d('9700') }), d('9600'), WED, LIMITS);
    expect(a.currentDrawdown.toString()).toBe('0.2');
    expect(a.lock?.kind).toBe(LockKind.DRAWDOWN);
  });

  it('locks on a losing streak at the limit', () => {
    expect(assessRisk(started({ consecutiveLosses: 3 }), d('10000'), WED, LIMITS).lock?.kind).toBe(LockKind.LOSS_STREAK);
    expect([d('-1'), d('-2'), d('0'), d('-3')].reduce(nextLossStreak, 0)).toBe(3);
    expect([d('-1'), d('5'), d('-3')].reduce(nextLossStreak, 0)).toBe(1);
  });

  it('lifts a daily lock at the next UTC day and a weekly lock at the next ISO week, never a drawdown lock', () => {
    const yesterday = started({ dayStart: new Date('2026-11-24T00:00:00Z'), isLocked: true, lockKind: LockKind.DAILY_LOSS });
    const a = assessRisk(yesterday, d('9500'), WED, LIMITS);
    expect(a.lifted).toBe(LockKind.DAILY_LOSS);
    expect(a.dayStartEquity.toString()).toBe('9500');
    expect(a.lock).toBeNull();

    const sameDay = started({ isLocked: true, lockKind: LockKind.DAILY_LOSS });
    expect(assessRisk(sameDay, d('9400'), WED, LIMITS)).toMatchObject({ lifted: null, lock: null });

    const lastWeek = started({ weekStart: new Date('2026-11-16T00:00:00Z'), isLocked: true, lockKind: LockKind.WEEKLY_LOSS });
    expect(assessRisk(lastWeek, d('9000'), WED, LIMITS).lifted).toBe(LockKind.WEEKLY_LOSS);

    const drawdown = started({ dayStart: new Date('2026-11-01T00:00:00Z'), isLocked: true, lockKind: LockKind.DRAWDOWN });
    expect(assessRisk(drawdown, d('9000'), WED, LIMITS).lifted).toBeNull();
  });

  it('the limits in force are the stricter of the user\'s own and the platform\'s, field by field', () => {
    const lowered: RiskLimits = { maxDrawdown: d('0.1'), maxDailyLossPct: d('0.03'), maxWeeklyLossPct: d('0.1'), maxConsecutiveLosses: 3 };
    const own = { maxDrawdown: d('0.05'), maxDailyLossPct: d('0.04'), maxWeeklyLossPct: null, maxConsecutiveLosses: 4 };
    expect(effectiveLimits(own, lowered)).toEqual({ maxDrawdown: d('0.05'), maxDailyLossPct: d('0.03'), maxWeeklyLossPct: d('0.1'), maxConsecutiveLosses: 3 });
    expect(effectiveLimits({}, lowered)).toEqual(lowered);
  });
});
