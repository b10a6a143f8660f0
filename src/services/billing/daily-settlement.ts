import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import type { Clock } from '../../engine/ports';
import type { AuditService } from '../audit.service';
import { addDays, isoDay, startOfUtcDay } from './billing-calendar';
import type { DaySettlement, ProfitTracker } from './profit-tracker';

/** Every billing write (settlement, invoicing) runs under this lock, one at a time across the cluster. */
export async function takeBillingLock(tx: EntityManager): Promise<void> {
  await tx.execute(`select pg_advisory_xact_lock(hashtext('billing'))`);
}

/** Days before the last settled one that each run settles again, for movements the ledger learned of late (the reconciler's REST pass). */
const REFRESH_DAYS = 2;

export interface SettlementRunBy {
  actorId: string | null;
  ip?: string | null;
}

export interface CatchUpResult {
  days: string[];
  settled: number;
  deferred: number;
  late: number;
}

/**
 * Runs the ProfitTracker day by day: each day in one transaction under the
 * billing lock (so twenty runs racing on two nodes settle it once), recorded
 * in `billing_closings` and audited. The daily job catches up from the last
 * settled day, whatever the scheduler's own backfill window.
 */
export class DailySettlement {
  constructor(private readonly deps: { orm: MikroORM; tracker: ProfitTracker; audit: AuditService; clock: Clock; logger: Logger }) {}

  /** An admin's settlement of one UTC day (its final figures once it is over, the day so far while it runs), audited. */
  async settle(day: Date, by: SettlementRunBy): Promise<DaySettlement> {
    return this.settleDay(day, (tx, done) =>
      this.deps.audit.record(tx, { action: 'admin.settle_profits', actorId: by.actorId, ip: by.ip ?? null, detail: describe(done) }),
    );
  }

  private async settleDay(day: Date, audit?: (tx: EntityManager, done: DaySettlement) => void): Promise<DaySettlement> {
    const now = this.deps.clock.now();
    const end = addDays(day, 1);
    const final = end <= now;
    const cutoff = final ? end : now;
    const em = this.deps.orm.em.fork();
    const result = await em.transactional(async (tx) => {
      await takeBillingLock(tx);
      // One day of every user's movements is aggregated in memory (a hash per user) rather than spilled to disk; runs are one at a time.
      await tx.execute(`set local work_mem = '64MB'`);
      const done = await this.deps.tracker.settleDay(tx, day, cutoff, final);
      await tx.execute(
        `insert into billing_closings (id, kind, period_start, final, runs, detail, updated_at) values (gen_random_uuid(), 'DAY', ?, ?, 1, ?, now())
         on conflict (kind, period_start) do update set final = billing_closings.final or excluded.final, runs = billing_closings.runs + 1,
           detail = excluded.detail, updated_at = now()`,
        [day, final, JSON.stringify({ settled: done.settled, deferred: done.deferred, late: done.late, cutoff: cutoff.toISOString() })],
      );
      audit?.(tx, done);
      return done;
    });
    if (result.late > 0) this.deps.logger.warn({ day: isoDay(day), users: result.late }, 'movements arrived for a day already invoiced: not billed');
    if (result.deferred > 0) this.deps.logger.info({ day: isoDay(day), users: result.deferred }, 'user-days deferred until they can be settled');
    return result;
  }

  /**
   * The daily job: every day from just before the last settled one through
   * yesterday, and every day with a deferred user, oldest first. With nothing
   * settled yet it starts at yesterday: days before billing began are
   * settled only when an admin asks for them.
   */
  async catchUp(signal?: AbortSignal): Promise<CatchUpResult> {
    const today = startOfUtcDay(this.deps.clock.now());
    const em = this.deps.orm.em.fork();
    const [last] = await em.execute<Array<{ day: string | null }>>(
      `select max(period_start) as day from billing_closings where kind = 'DAY' and final and period_start < ?`,
      [today],
    );
    const yesterday = addDays(today, -1);
    const from = last?.day ? addDays(startOfUtcDay(new Date(last.day)), -(REFRESH_DAYS - 1)) : yesterday;
    const waiting = await em.execute<Array<{ day: string }>>(`select distinct day from profit_deferrals where day < ? order by day`, [today]);
    const days = new Map<number, Date>();
    for (const row of waiting) days.set(new Date(row.day).getTime(), new Date(row.day));
    for (let day = from; day <= yesterday; day = addDays(day, 1)) days.set(day.getTime(), day);
    const result: CatchUpResult = { days: [], settled: 0, deferred: 0, late: 0 };
    for (const day of [...days.values()].sort((a, b) => a.getTime() - b.getTime())) {
      // Stops between days on shutdown: every day written is whole, the rest waits for the next run.
      if (signal?.aborted) break;
      const done = await this.settleDay(day);
      result.days.push(isoDay(day));
      result.settled += done.settled;
      result.deferred += done.deferred;
      result.late += done.late;
    }
    if (result.days.length > 0) {
      const auditEm = this.deps.orm.em.fork();
      this.deps.audit.record(auditEm, {
        action: 'billing.settlement_run',
        detail: `days ${result.days[0]} to ${result.days[result.days.length - 1]}: ${result.settled} user-days settled, ${result.deferred} deferred` +
          (result.late ? `, ${result.late} with movements after their invoice (not billed)` : ''),
      });
      await auditEm.flush();
    }
    return result;
  }

  /**
   * Before a month is invoiced: its deferred days and those of earlier
   * months, then every day of the month again, oldest first, so the invoice
   * bills what the ledger holds when it is issued.
   */
  async settleMonth(monthStart: Date, monthEnd: Date): Promise<void> {
    const waiting = await this.deps.orm.em.fork().execute<Array<{ day: string }>>(
      `select distinct day from profit_deferrals where day < ? order by day`,
      [monthStart],
    );
    for (const row of waiting) await this.settleDay(new Date(row.day));
    for (let day = monthStart; day < monthEnd; day = addDays(day, 1)) await this.settleDay(day);
  }
}

function describe(done: DaySettlement): string {
  return `${isoDay(done.day)}${done.final ? '' : ' so far'}: ${done.settled} users settled, ${done.deferred} deferred` +
    (done.late ? `, ${done.late} with movements after their invoice (not billed)` : '');
}
