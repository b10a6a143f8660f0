import type { EntityManager } from '@mikro-orm/postgresql';
import { SubscriptionPlan } from '../../entities/enums';
import { PlanChange } from '../../entities/plan-change.entity';
import type { User } from '../../entities/user.entity';
import { DAY_MS } from './billing-calendar';
import { uuidArray } from './sql-arrays';

/** A run of whole UTC days one plan governed for a user, within a month. */
export interface PlanSegment {
  userId: string;
  plan: SubscriptionPlan;
  /** First day (00:00 UTC). */
  from: Date;
  /** The day after the last one (exclusive). */
  to: Date;
  days: number;
}

/**
 * `user_plan_history`. A day belongs wholly to the plan in force at its
 * 00:00 UTC (the day an account began: its first plan), for the profit-share
 * rate and for the subscription alike; a change during a day governs from
 * the next day on. So a plan cannot be changed after the fact for a day
 * already running, and rate and subscription always agree on the day's plan.
 */
export class PlanHistory {
  /** Appends a change; the first change of an account also records the plan it had from its creation. */
  async record(tx: EntityManager, user: User, previous: SubscriptionPlan, plan: SubscriptionPlan, at: Date, actorId: string): Promise<void> {
    if ((await tx.count(PlanChange, { user: user.id })) === 0) {
      tx.create(PlanChange, { user, plan: previous, startedAt: user.createdAt, actorId: null });
    }
    tx.create(PlanChange, { user, plan, startedAt: at, actorId });
  }

  /** For each user, the runs of days in [from, to) on each plan, oldest first (one query for all users). */
  async segments(em: EntityManager, from: Date, to: Date, userIds: string[]): Promise<PlanSegment[]> {
    if (userIds.length === 0) return [];
    const rows = await em.execute<Array<{ user_id: string; plan: SubscriptionPlan; seg_from: string; seg_to: string }>>(SEGMENTS_SQL, [from, to, uuidArray(userIds)]);
    return rows.map((r) => {
      const segFrom = new Date(r.seg_from);
      const segTo = new Date(r.seg_to);
      return { userId: r.user_id, plan: r.plan, from: segFrom, to: segTo, days: Math.round((segTo.getTime() - segFrom.getTime()) / DAY_MS) };
    });
  }
}

// A row governs the days whose 00:00 is at or after its start (its first row also the day it began in),
// up to the first 00:00 at or after the next row's start. Users without history: their plan since their first day.
const SEGMENTS_SQL = `
with m as (select ?::timestamptz as s, ?::timestamptz as e),
members as (select unnest(?::uuid[]) as user_id),
hist as (
  select h.user_id, h.plan, h.started_at,
    row_number() over (partition by h.user_id order by h.started_at, h.created_at) as n,
    lead(h.started_at) over (partition by h.user_id order by h.started_at, h.created_at) as next_at
  from user_plan_history h join members using (user_id)
),
ceiled as (
  select user_id, plan,
    case when n = 1 or date_trunc('day', started_at, 'UTC') = started_at then date_trunc('day', started_at, 'UTC')
         else date_trunc('day', started_at, 'UTC') + interval '1 day' end as from_day,
    case when next_at is null then 'infinity'::timestamptz
         when date_trunc('day', next_at, 'UTC') = next_at then next_at
         else date_trunc('day', next_at, 'UTC') + interval '1 day' end as to_day
  from hist
  union all
  select u.id, u.subscription, date_trunc('day', u.created_at, 'UTC'), 'infinity'::timestamptz
  from users u join members on members.user_id = u.id
  where not exists (select 1 from user_plan_history h where h.user_id = u.id)
)
select c.user_id, c.plan, greatest(c.from_day, m.s) as seg_from, least(c.to_day, m.e) as seg_to
from ceiled c cross join m
where greatest(c.from_day, m.s) < least(c.to_day, m.e)
order by c.user_id, seg_from
`;
