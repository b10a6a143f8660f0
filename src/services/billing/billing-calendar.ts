/** Billing's calendar: UTC days, ISO weeks (Monday) and calendar months, as instants. */

export const DAY_MS = 24 * 60 * 60 * 1000;

export const startOfUtcDay = (at: Date) => new Date(Math.floor(at.getTime() / DAY_MS) * DAY_MS);

export const addDays = (at: Date, days: number) => new Date(at.getTime() + days * DAY_MS);

export const isUtcDayStart = (at: Date) => at.getTime() % DAY_MS === 0;

export const startOfUtcMonth = (at: Date) => new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1));

export const addMonths = (at: Date, months: number) => new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + months, 1));

export const isUtcMonthStart = (at: Date) => at.getTime() === startOfUtcMonth(at).getTime();

export const daysInUtcMonth = (monthStart: Date) => Math.round((addMonths(monthStart, 1).getTime() - monthStart.getTime()) / DAY_MS);

/** Monday 00:00 UTC of the ISO week holding `at`. */
export function startOfIsoWeek(at: Date): Date {
  const day = startOfUtcDay(at);
  return addDays(day, -((day.getUTCDay() + 6) % 7));
}

/** "2026-03-02" */
export const isoDay = (at: Date) => at.toISOString().slice(0, 10);

/** "March 2026" */
export const monthName = (monthStart: Date) =>
  monthStart.toLocaleString('en-GB', { month: 'long', year: 'numeric', timeZone: 'UTC' });

/** Every UTC day start from `from` up to, not including, `to`. */
export function utcDays(from: Date, to: Date): Date[] {
  const days: Date[] = [];
  for (let day = startOfUtcDay(from); day < to; day = addDays(day, 1)) days.push(day);
  return days;
}
