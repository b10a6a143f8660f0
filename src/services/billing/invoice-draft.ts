import Decimal from 'decimal.js';
import { PLAN_RULES } from '../../domain/plans';
import type { SubscriptionPlan } from '../../entities/enums';
import type { StoredInvoiceLine } from '../../entities/invoice.entity';
import { formatDecimal } from '../../schema/scalars';
import { addDays, daysInUtcMonth, isoDay, monthName } from './billing-calendar';
import type { PlanSegment } from './plan-history';

/** A settled day not yet on any invoice, with the figures its fee came from. */
export interface UnbilledDay {
  id: string;
  day: Date;
  plan: SubscriptionPlan;
  rate: Decimal.Value;
  gross: Decimal.Value;
  fee: Decimal.Value;
  /** What the rate applied to. */
  billable: Decimal.Value;
  /** Set when the day was settled in high-water-mark mode: the mark it was measured against and the cumulative result. */
  highWaterMark: { before: Decimal.Value; cumulative: Decimal.Value } | null;
}

export interface InvoiceDraft {
  plan: SubscriptionPlan;
  subscriptionFee: Decimal;
  profitShareFee: Decimal;
  total: Decimal;
  lines: StoredInvoiceLine[];
}

/** Amounts on an invoice are cents, rounded half up (a user checking by hand gets the same figure). */
const cents = (value: Decimal) => value.toDecimalPlaces(2, Decimal.ROUND_HALF_UP);
const usd = (value: Decimal) => value.toFixed(2);
const pct = (rate: Decimal.Value) => `${formatDecimal(new Decimal(rate).times(100))} %`;
const num = (value: Decimal.Value) => formatDecimal(value);

/**
 * One month's invoice for one user: a subscription line per run of days on
 * a plan (the monthly fee × days on it ÷ days in the month), and one profit
 * share line summing the daily fees not billed yet. USDT counts 1:1 as USD.
 */
export function draftInvoice(monthStart: Date, segments: PlanSegment[], days: UnbilledDay[], currentPlan: SubscriptionPlan): InvoiceDraft {
  const monthDays = daysInUtcMonth(monthStart);
  const lines: StoredInvoiceLine[] = segments.map((segment) => subscriptionLine(segment, monthDays));
  const profitShare = profitShareLine(monthStart, days);
  lines.push(profitShare);
  const subscriptionFee = lines.filter((l) => l.kind === 'SUBSCRIPTION').reduce((sum, l) => sum.plus(l.amount), new Decimal(0));
  const profitShareFee = new Decimal(profitShare.amount);
  return {
    plan: segments.length > 0 ? segments[segments.length - 1].plan : currentPlan,
    subscriptionFee,
    profitShareFee,
    total: subscriptionFee.plus(profitShareFee),
    lines,
  };
}

function subscriptionLine(segment: PlanSegment, monthDays: number): StoredInvoiceLine {
  const fee = PLAN_RULES[segment.plan].monthlyFee;
  const exact = fee.times(segment.days).dividedBy(monthDays);
  const amount = cents(exact);
  const span = segment.days === 1 ? isoDay(segment.from) : `${isoDay(segment.from)} to ${isoDay(addDays(segment.to, -1))}`;
  const rounded = exact.equals(amount) ? '' : ` (${num(exact.toDecimalPlaces(6, Decimal.ROUND_HALF_UP))}…, rounded to the cent)`;
  return {
    kind: 'SUBSCRIPTION',
    plan: segment.plan,
    description: `${segment.plan} plan, ${span} (${segment.days} of ${monthDays} days)`,
    amount: usd(amount),
    calculation: `${usd(fee)} USD a month × ${segment.days} / ${monthDays} days = ${usd(amount)}${rounded}`,
  };
}

function profitShareLine(monthStart: Date, days: UnbilledDay[]): StoredInvoiceLine {
  const sorted = [...days].sort((a, b) => a.day.getTime() - b.day.getTime());
  const billed = sorted.filter((d) => new Decimal(d.fee).gt(0));
  const withoutFee = sorted.filter((d) => !new Decimal(d.fee).gt(0) && d.day >= monthStart);
  const sum = billed.reduce((acc, d) => acc.plus(d.fee), new Decimal(0));
  const amount = cents(sum);
  const parts = billed.map(dayFeeText);
  const listed = (rows: UnbilledDay[]) => rows.map((d) => `${isoDay(d.day)} (gross ${num(d.gross)})`).join(', ');
  const belowMark = withoutFee.filter((d) => d.highWaterMark);
  const noGain = withoutFee.filter((d) => !d.highWaterMark);
  if (noGain.length > 0) parts.push(`no fee on ${listed(noGain)}: a day without a gain is not billed and its loss is not carried forward`);
  if (belowMark.length > 0) parts.push(`no fee on ${listed(belowMark)}: the cumulative result stayed at or below the high-water mark`);
  const earlier = billed.some((d) => d.day < monthStart);
  const total = billed.length === 0
    ? 'no day with a fee: 0.00'
    : `sum ${num(sum)} = ${usd(amount)}${sum.equals(amount) ? '' : ' (rounded to the cent, half up)'}`;
  return {
    kind: 'PROFIT_SHARE',
    description: `Profit share, ${monthName(monthStart)}${earlier ? ' (and earlier days settled late)' : ''}`,
    amount: usd(amount),
    calculation: [...parts, total].join('; '),
  };
}

/** "2026-03-02: 30 % of 120.5 = 36.15", or in high-water-mark mode the gain above the mark it was billed on. */
function dayFeeText(day: UnbilledDay): string {
  if (day.highWaterMark) {
    return `${isoDay(day.day)}: ${pct(day.rate)} of ${num(day.billable)}, the gain above the high-water mark ${num(day.highWaterMark.before)} ` +
      `(cumulative result ${num(day.highWaterMark.cumulative)}) = ${num(day.fee)}`;
  }
  return `${isoDay(day.day)}: ${pct(day.rate)} of ${num(day.billable)} = ${num(day.fee)}`;
}
