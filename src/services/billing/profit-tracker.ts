import type { EntityManager } from '@mikro-orm/postgresql';
import { PLAN_RULES } from '../../domain/plans';
import { SubscriptionPlan } from '../../entities/enums';

export type ProfitShareMode = 'daily' | 'high_water_mark';

/** What one settlement of one UTC day did. */
export interface DaySettlement {
  day: Date;
  /** The day is over: these are its final figures (otherwise the day so far). */
  final: boolean;
  /** Users whose record of the day this run wrote (new, or recomputed because the ledger has more). */
  settled: number;
  /** Users whose day waits: a movement without a USDT value yet, or (high-water mark) an earlier day still open. */
  deferred: number;
  /** Users whose day was already invoiced and has movements recorded since: those stay unbilled (logged). */
  late: number;
}

/**
 * The ProfitTracker: settles one UTC day for every user with movements on it,
 * from the ledger's `account_movements`, in one statement (set-based, no
 * per-user code):
 *
 *   gross   = Σ realized PnL − Σ commission (USDT value at the trade) + Σ funding
 *   daily mode:            billable = max(gross, 0)          (a loss is never carried)
 *   high-water-mark mode:  cumulative = previous cumulative + gross
 *                          billable   = max(cumulative − previous mark, 0), mark = max(previous mark, cumulative)
 *   fee     = round(billable × rate of the plan in force at the day's 00:00 UTC, 10 decimals)
 *   net     = gross − fee
 *
 * Deposits, withdrawals and transfers never enter gross, so neither mode bills
 * capital the user moved. Starting and ending balance are the account's equity
 * at the day's start and at its end (the last balance snapshot at or before each).
 * One `user_profits` row per (user, DAILY, day): settling the day again rewrites
 * the row only while it is not invoiced and only when the ledger has more
 * movements for it (or, for the high-water mark, the day before changed), so
 * nothing is ever charged twice. The caller holds the billing lock and the transaction.
 */
export class ProfitTracker {
  constructor(private readonly mode: ProfitShareMode) {}

  async settleDay(tx: EntityManager, day: Date, cutoff: Date, final: boolean): Promise<DaySettlement> {
    const rate = (plan: SubscriptionPlan) => PLAN_RULES[plan].profitShareRate.toFixed();
    const [row] = await tx.execute<Array<{ settled: number; deferred: number; late: number }>>(SETTLE_DAY_SQL, [
      rate(SubscriptionPlan.FREE), rate(SubscriptionPlan.BASIC), rate(SubscriptionPlan.PRO),
      day, cutoff, final, this.mode === 'high_water_mark',
    ]);
    return { day, final, settled: row.settled, deferred: row.deferred, late: row.late };
  }
}

const BILLABLE_KINDS = `('REALIZED_PNL', 'COMMISSION', 'FUNDING_FEE')`;

const SETTLE_DAY_SQL = `
with
rates (plan, rate) as (values ('FREE', ?::numeric), ('BASIC', ?::numeric), ('PRO', ?::numeric)),
params as (select ?::timestamptz as day_start, ?::timestamptz as cutoff, ?::boolean as final, ?::boolean as hwm),
day_movements as (
  select m.user_id,
    count(*)::int as movements,
    coalesce(sum(m.usdt_value) filter (where m.kind = 'REALIZED_PNL'), 0) as realized,
    coalesce(-sum(m.usdt_value) filter (where m.kind = 'COMMISSION'), 0) as commission,
    coalesce(sum(m.usdt_value) filter (where m.kind = 'FUNDING_FEE'), 0) as funding,
    coalesce(sum(m.usdt_value) filter (where m.kind in ('DEPOSIT', 'WITHDRAWAL', 'TRANSFER')), 0) as capital,
    count(*) filter (where m.kind in ${BILLABLE_KINDS} and m.usdt_value is null)::int as unvalued
  from account_movements m, params p
  where m.occurred_at >= p.day_start and m.occurred_at < p.cutoff
  group by m.user_id
),
subjects as (
  select d.*,
    -- The plan in force at the day's start; for the day an account began, its first plan.
    coalesce(
      (select h.plan from user_plan_history h where h.user_id = d.user_id and h.started_at <= p.day_start order by h.started_at desc limit 1),
      (select h.plan from user_plan_history h where h.user_id = d.user_id order by h.started_at asc limit 1),
      u.subscription
    ) as plan,
    coalesce(
      (select b.equity from balance_snapshots b where b.user_id = d.user_id and b.taken_at <= p.day_start order by b.taken_at desc limit 1),
      (select b.equity from balance_snapshots b where b.user_id = d.user_id and b.taken_at > p.day_start and b.taken_at <= p.cutoff order by b.taken_at asc limit 1),
      0
    ) as starting_balance,
    (select b.equity from balance_snapshots b where b.user_id = d.user_id and b.taken_at <= p.cutoff order by b.taken_at desc limit 1) as ending_snapshot,
    e.id is not null as has_row, e.invoice_id as existing_invoice, e.movement_count as existing_movements,
    prev.cumulative_gross as prev_cumulative, prev.high_water_mark as prev_mark,
    p.hwm and (
      exists (select 1 from profit_deferrals f where f.user_id = d.user_id and f.day < p.day_start)
      or exists (
        select 1 from account_movements m
        where m.user_id = d.user_id and m.occurred_at < p.day_start
          and m.occurred_at >= (select q.period_end from user_profits q
                                where q.user_id = d.user_id and q.period_type = 'DAILY' and q.period_start < p.day_start
                                order by q.period_start desc limit 1)
      )
    ) as earlier_open
  from day_movements d
  join users u on u.id = d.user_id
  cross join params p
  left join user_profits e on e.user_id = d.user_id and e.period_type = 'DAILY' and e.period_start = p.day_start
  left join lateral (
    select q.cumulative_gross, q.high_water_mark from user_profits q
    where p.hwm and q.user_id = d.user_id and q.period_type = 'DAILY' and q.period_start < p.day_start and q.final and q.high_water_mark is not null
    order by q.period_start desc limit 1
  ) prev on true
),
figures as (
  select s.*, r.rate,
    s.realized - s.commission + s.funding as gross,
    s.unvalued > 0 or s.earlier_open as deferred,
    case when s.unvalued > 0 then s.unvalued || ' movement(s) without a USDT value yet'
         else 'an earlier day of this user is not settled yet' end as defer_reason,
    case when p.hwm then coalesce(s.prev_mark, 0) end as mark_before
  from subjects s join rates r on r.plan = s.plan cross join params p
),
marked as (
  select f.*, case when p.hwm then coalesce(f.prev_cumulative, 0) + f.gross end as cumulative
  from figures f cross join params p
),
billed as (
  select m.*,
    case when p.hwm then greatest(m.cumulative - m.mark_before, 0) else greatest(m.gross, 0) end as billable,
    case when p.hwm then greatest(m.mark_before, m.cumulative) end as mark_after
  from marked m cross join params p
),
priced as (
  select b.*, round(b.billable * b.rate, 10) as fee from billed b
),
written as (
  insert into user_profits (
    id, user_id, period_type, period_start, period_end, plan, starting_balance, ending_balance, gross_profit, fee_rate, platform_fee, net_profit,
    realized_pnl, commission, funding, capital_flows, billable, final, movement_count, cumulative_gross, high_water_mark, high_water_mark_before,
    created_at, updated_at
  )
  select gen_random_uuid(), c.user_id, 'DAILY', p.day_start, p.cutoff, c.plan, c.starting_balance, coalesce(c.ending_snapshot, c.starting_balance),
    c.gross, c.rate, c.fee, c.gross - c.fee, c.realized, c.commission, c.funding, c.capital, c.billable,
    p.final, c.movements, c.cumulative, c.mark_after, c.mark_before, now(), now()
  from priced c cross join params p
  where not c.deferred
  on conflict (user_id, period_type, period_start) do update set
    period_end = excluded.period_end, plan = excluded.plan, starting_balance = excluded.starting_balance, ending_balance = excluded.ending_balance,
    gross_profit = excluded.gross_profit, fee_rate = excluded.fee_rate, platform_fee = excluded.platform_fee, net_profit = excluded.net_profit,
    realized_pnl = excluded.realized_pnl, commission = excluded.commission, funding = excluded.funding, capital_flows = excluded.capital_flows,
    billable = excluded.billable, final = excluded.final, movement_count = excluded.movement_count,
    cumulative_gross = excluded.cumulative_gross, high_water_mark = excluded.high_water_mark,
    high_water_mark_before = excluded.high_water_mark_before, updated_at = excluded.updated_at
  where user_profits.invoice_id is null
    and not (user_profits.final and not excluded.final)
    and (
      not user_profits.final
      or user_profits.movement_count <> excluded.movement_count
      or user_profits.plan <> excluded.plan
      or user_profits.cumulative_gross is distinct from excluded.cumulative_gross
      or user_profits.high_water_mark_before is distinct from excluded.high_water_mark_before
    )
  returning user_id
),
deferrals as (
  insert into profit_deferrals (id, user_id, day, reason, unvalued, first_seen_at, last_seen_at)
  select gen_random_uuid(), c.user_id, p.day_start, c.defer_reason, c.unvalued, now(), now()
  from priced c cross join params p
  where c.deferred
  on conflict (user_id, day) do update set reason = excluded.reason, unvalued = excluded.unvalued, last_seen_at = excluded.last_seen_at
  returning user_id
),
cleared as (
  delete from profit_deferrals f using priced c, params p
  where f.user_id = c.user_id and f.day = p.day_start and not c.deferred
  returning f.user_id
)
select
  (select count(*) from written)::int as settled,
  (select count(*) from deferrals)::int as deferred,
  (select count(*) from priced c where c.existing_invoice is not null and c.existing_movements <> c.movements)::int as late,
  (select count(*) from cleared)::int as cleared
`;
