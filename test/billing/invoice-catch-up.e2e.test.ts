import type { MikroORM } from '@mikro-orm/postgresql';
import { eventuallyExpect } from '../support/eventually';
import { startTestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { addMovements, addUser } from './billing-kit';
import { startOfMonth } from './billing-e2e-kit';

const monthsBefore = (at: Date, n: number) => new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() - n, 1));
const ym = (at: Date | string) => new Date(at).toISOString().slice(0, 7);
const sql = <T = any>(orm: MikroORM, text: string, params: unknown[] = []) => orm.em.fork().execute<T[]>(text, params);

/**
 * The monthly invoices are a scheduler job that, like the daily settlement,
 * also runs at every start and catches up from the last invoiced month: a 1st
 * the whole cluster slept through, for longer than the scheduler's own
 * backfill window (three days), is invoiced when a node comes back, not a
 * month later. Two nodes coming back together invoice it once.
 */
describe('the monthly invoice job', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  it('issues at start every month missed since the last invoiced one, once with two nodes starting together', async () => {
    // A first node migrates the database and goes away once its own start-up runs are done.
    const first = await startTestApp({ database: db });
    const orm = first.app.services.orm;
    await eventuallyExpect(async () => {
      expect(await sql(orm, `select count(*)::int as n from job_runs where job in ('profit-settlement', 'monthly-invoices') and status = 'DONE'`)).toEqual([{ n: 2 }]);
    });
    // The books say the last month invoiced is three months back: the last two 1sts passed with every node down.
    const current = startOfMonth(new Date());
    const [lastInvoiced, missedA, missedB] = [3, 2, 1].map((n) => monthsBefore(current, n));
    await sql(orm, `delete from billing_closings`);
    await sql(orm, `insert into billing_closings (id, kind, period_start, final, runs, updated_at) values (gen_random_uuid(), 'MONTH', ?, true, 1, now())`, [lastInvoiced]);
    const user = await addUser(orm, { plan: 'BASIC', createdAt: monthsBefore(current, 4).toISOString().slice(0, 16) });
    const profitDay = new Date(missedA.getTime() + 9 * 86_400_000 + 12 * 3_600_000);
    await addMovements(orm, user, [{ kind: 'REALIZED_PNL', amount: '100', at: profitDay.toISOString().slice(0, 16) }]);
    await first.stop();

    const nodes = await Promise.all([startTestApp({ database: db }), startTestApp({ database: db })]);
    try {
      const orm2 = nodes[0].app.services.orm;
      // Both nodes' start-up runs are over (each waits in the job's queue behind the other's).
      await eventuallyExpect(async () => {
        expect(await sql(orm2, `select count(*)::int as n from graphile_worker.jobs where task_identifier = 'monthly-invoices'`)).toEqual([{ n: 0 }]);
        expect(await sql(orm2, `select count(*)::int as n from invoices where user_id = ?`, [user])).toEqual([{ n: 2 }]);
      });
      const invoices = await sql(orm2, `select period_start, subscription_fee, profit_share_fee, total, status from invoices where user_id = ? order by period_start`, [user]);
      // Each missed month once: BASIC's 29.00, and 20 % of the 100 made in the first of them.
      expect(invoices.map((i) => [ym(i.period_start), i.subscription_fee, i.profit_share_fee, i.total, i.status])).toEqual([
        [ym(missedA), '29.0000000000', '20.0000000000', '49.0000000000', 'OPEN'],
        [ym(missedB), '29.0000000000', '0.0000000000', '29.0000000000', 'OPEN'],
      ]);
      // Each month issued by one run, whichever node ran it; the month before them was not issued again.
      const closings = await sql(orm2, `select period_start, runs from billing_closings where kind = 'MONTH' order by period_start`);
      expect(closings.map((c) => [ym(c.period_start), c.runs])).toEqual([[ym(lastInvoiced), 1], [ym(missedA), 1], [ym(missedB), 1]]);
      const audits = await sql(orm2, `select actor_id, detail from audit_logs where action = 'billing.issue_invoices' and detail like '%: 1 invoices issued'`);
      expect(audits).toHaveLength(2);
      expect(audits.every((a) => a.actor_id === null)).toBe(true);
      const runs = await sql(orm2, `select detail from job_runs where job = 'monthly-invoices' and status = 'DONE' and detail::text like '%"issued": 1%'`);
      expect(runs.flatMap((r) => r.detail.months.map((m: { month: string }) => ym(m.month)))).toEqual([ym(missedA), ym(missedB)]);
    } finally {
      await Promise.all(nodes.map((n) => n.stop()));
    }
  });
});
