import type { EntityManager } from '@mikro-orm/postgresql';
import Decimal from 'decimal.js';
import type { Clock } from '../../engine/ports';
import { PeriodType, SubscriptionPlan } from '../../entities/enums';
import { badInput } from '../../errors/app-error';
import { formatDecimal } from '../../schema/scalars';
import { isUuid } from '../ids';
import type { SignedInScope } from '../scope';
import { assertAdmin } from '../access';
import { addDays, addMonths, isUtcDayStart, startOfIsoWeek, startOfUtcDay, startOfUtcMonth } from './billing-calendar';
import type { ProfitRecordView, ProfitSummaryView } from './billing-views';
import type { DailySettlement } from './daily-settlement';

export interface PlatformProfitView {
  from: Date;
  to: Date;
  totalGrossProfit: string;
  totalPlatformFee: string;
  subscriptionRevenue: string;
  byPlan: Array<{ plan: SubscriptionPlan; users: number; platformFee: string; subscriptionRevenue: string }>;
}

interface RecordRow {
  period_start: string;
  period_end: string | null;
  starting_balance: string;
  ending_balance: string;
  gross_profit: string;
  platform_fee: string;
  net_profit: string;
  fee_rate: string | null;
}

/** How far back a profit query reaches when `from` is not given. */
const DEFAULT_SPAN: Record<PeriodType, (to: Date) => Date> = {
  [PeriodType.DAILY]: (to) => addDays(to, -30),
  [PeriodType.WEEKLY]: (to) => addDays(to, -12 * 7),
  [PeriodType.MONTHLY]: (to) => addMonths(startOfUtcMonth(to), -11),
};

/** Daily settled days, and the weekly (ISO) and monthly figures that sum them, as users and admins read them. */
export class ProfitService {
  constructor(private readonly deps: { settlement: DailySettlement; clock: Clock }) {}

  /** The signed-in user's own profit records. */
  async profit(scope: SignedInScope, args: { period?: PeriodType | null; from?: Date | null; to?: Date | null }): Promise<ProfitSummaryView> {
    const period = args.period ?? PeriodType.DAILY;
    if (args.from && args.to && args.from > args.to) throw badInput('from must not be after to', 'from');
    const to = args.to ?? this.deps.clock.now();
    const from = args.from ?? DEFAULT_SPAN[period](to);
    return this.summary(scope.em, scope.actor.id, period, from, to);
  }

  /** Admin console (user detail): one user's daily records of the last `days` days; `em` is the admin's. */
  async profitOf(em: EntityManager, userId: string, days: number): Promise<ProfitSummaryView> {
    if (!isUuid(userId)) return summarise([]);
    const to = this.deps.clock.now();
    return this.summary(em, userId, PeriodType.DAILY, addDays(to, -days), to);
  }

  /** Admin: settles one UTC day (today: the day so far); answers how many users' records this run wrote. */
  async settle(scope: SignedInScope, date: Date): Promise<number> {
    assertAdmin(scope);
    if (!isUtcDayStart(date)) throw badInput('date must be a UTC day start (00:00:00Z), e.g. 2026-03-02T00:00:00Z', 'date');
    if (date > startOfUtcDay(this.deps.clock.now())) throw badInput('That day has not begun yet: only a past day or today can be settled', 'date');
    return (await this.deps.settlement.settle(date, { actorId: scope.actor.id, ip: scope.ip })).settled;
  }

  /**
   * Admin: the platform's revenue in [from, to) with aggregate SQL. Profit
   * share by settled day (gross and fees of the days starting in the range),
   * subscriptions by invoice (the non-void invoices of months starting in the
   * range), both by plan; admins' own days are not revenue. Defaults: the
   * current UTC month so far.
   */
  async platformProfit(scope: SignedInScope, args: { from?: Date | null; to?: Date | null }): Promise<PlatformProfitView> {
    assertAdmin(scope);
    if (args.from && args.to && args.from > args.to) throw badInput('from must not be after to', 'from');
    const to = args.to ?? this.deps.clock.now();
    const from = args.from ?? startOfUtcMonth(to);
    const rows = await scope.em.execute<Array<{ plan: SubscriptionPlan; users: number; gross: string; fee: string; subscription: string }>>(PLATFORM_SQL, [
      from, to, from, to,
    ]);
    const byPlan = Object.values(SubscriptionPlan).map((plan) => {
      const row = rows.find((r) => r.plan === plan);
      return { plan, users: row?.users ?? 0, gross: new Decimal(row?.gross ?? 0), fee: new Decimal(row?.fee ?? 0), subscription: new Decimal(row?.subscription ?? 0) };
    });
    const total = (pick: (p: (typeof byPlan)[number]) => Decimal) => formatDecimal(byPlan.reduce((sum, p) => sum.plus(pick(p)), new Decimal(0)));
    return {
      from,
      to,
      totalGrossProfit: total((p) => p.gross),
      totalPlatformFee: total((p) => p.fee),
      subscriptionRevenue: total((p) => p.subscription),
      byPlan: byPlan.map((p) => ({ plan: p.plan, users: p.users, platformFee: formatDecimal(p.fee), subscriptionRevenue: formatDecimal(p.subscription) })),
    };
  }

  private async summary(em: EntityManager, userId: string, period: PeriodType, from: Date, to: Date): Promise<ProfitSummaryView> {
    if (period === PeriodType.DAILY) {
      const rows = await em.execute<RecordRow[]>(
        `select period_start, period_end, starting_balance, ending_balance, gross_profit, platform_fee, net_profit, fee_rate
         from user_profits where user_id = ? and period_type = 'DAILY' and period_start >= ? and period_start < ? order by period_start`,
        [userId, from, to],
      );
      return summarise(rows.map((r) => record(PeriodType.DAILY, r, new Date(r.period_end!))));
    }
    const unit = period === PeriodType.WEEKLY ? 'week' : 'month';
    const start = period === PeriodType.WEEKLY ? startOfIsoWeek(from) : startOfUtcMonth(from);
    // A week or month is the sum of its settled days; its rate is what its fees came to on its gains.
    const rows = await em.execute<RecordRow[]>(
      `select date_trunc(?::text, period_start, 'UTC') as period_start, null as period_end,
         (array_agg(starting_balance order by period_start))[1] as starting_balance,
         (array_agg(ending_balance order by period_start desc))[1] as ending_balance,
         sum(gross_profit) as gross_profit, sum(platform_fee) as platform_fee, sum(net_profit) as net_profit,
         coalesce(sum(platform_fee) / nullif(sum(billable), 0), (array_agg(fee_rate order by period_start desc))[1]) as fee_rate
       from user_profits where user_id = ? and period_type = 'DAILY' and period_start >= ? and period_start < ?
       group by 1 order by 1`,
      [unit, userId, start, to],
    );
    return summarise(
      rows.map((r) => {
        const periodStart = new Date(r.period_start);
        return record(period, r, period === PeriodType.WEEKLY ? addDays(periodStart, 7) : addMonths(periodStart, 1));
      }),
    );
  }
}

function record(periodType: PeriodType, r: RecordRow, periodEnd: Date): ProfitRecordView {
  return {
    periodType,
    periodStart: new Date(r.period_start),
    periodEnd,
    startingBalance: formatDecimal(r.starting_balance),
    endingBalance: formatDecimal(r.ending_balance),
    grossProfit: formatDecimal(r.gross_profit),
    feeRate: new Decimal(r.fee_rate ?? 0).toDecimalPlaces(8).toNumber(),
    platformFee: formatDecimal(r.platform_fee),
    netProfit: formatDecimal(r.net_profit),
  };
}

function summarise(records: ProfitRecordView[]): ProfitSummaryView {
  const total = (pick: (r: ProfitRecordView) => string) => formatDecimal(records.reduce((sum, r) => sum.plus(pick(r)), new Decimal(0)));
  return {
    records,
    totalGrossProfit: total((r) => r.grossProfit),
    totalPlatformFee: total((r) => r.platformFee),
    totalNetProfit: total((r) => r.netProfit),
  };
}

const PLATFORM_SQL = `
with fees as (
  -- Staff accounts see their own profit but are never billed: not the platform's revenue.
  select p.plan, p.user_id, p.gross_profit, p.platform_fee from user_profits p join users u on u.id = p.user_id
  where p.period_type = 'DAILY' and p.period_start >= ? and p.period_start < ? and u.role <> 'ADMIN'
),
subscriptions as (
  select l ->> 'plan' as plan, i.user_id, (l ->> 'amount')::numeric as amount
  from invoices i cross join lateral jsonb_array_elements(i.lines) l
  where i.status <> 'VOID' and i.period_start >= ? and i.period_start < ? and l ->> 'kind' = 'SUBSCRIPTION'
),
members as (select plan, user_id from fees union select plan, user_id from subscriptions)
select m.plan, m.users,
  coalesce(f.gross, 0) as gross, coalesce(f.fee, 0) as fee, coalesce(s.amount, 0) as subscription
from (select plan, count(distinct user_id)::int as users from members group by plan) m
left join (select plan, sum(gross_profit) as gross, sum(platform_fee) as fee from fees group by plan) f on f.plan = m.plan
left join (select plan, sum(amount) as amount from subscriptions group by plan) s on s.plan = m.plan
`;
