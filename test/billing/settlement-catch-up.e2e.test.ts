import { eventuallyExpect } from '../support/eventually';
import { startTestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { addMovements, addUser } from './billing-kit';
import { DAY, startOfDay } from './billing-e2e-kit';

const iso = (at: Date) => at.toISOString().slice(0, 10);

/**
 * The daily settlement is a scheduler job that catches up at start from the
 * last settled day, also for days older than the scheduler's own backfill
 * window (two days), with no admin and no signal involved.
 */
describe('the daily settlement job', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  it('settles at start every day missed since the last settled one', async () => {
    // A first node migrates the database and goes away; every node stays down for a week.
    const first = await startTestApp({ database: db });
    const orm = first.app.services.orm;
    // Its own start-up run comes and goes first (with nothing settled yet it settles yesterday only).
    await eventuallyExpect(async () => {
      expect(await orm.em.fork().execute(`select count(*)::int as n from job_runs where job = 'profit-settlement' and status = 'DONE'`)).toEqual([{ n: 1 }]);
    });
    const today = startOfDay(Date.now());
    const day = (n: number) => new Date(today.getTime() - n * DAY);
    await orm.em.fork().execute(`delete from billing_closings`);
    await orm.em.fork().execute(
      `insert into billing_closings (id, kind, period_start, final, runs, updated_at) values (gen_random_uuid(), 'DAY', ?, true, 1, now())`,
      [day(7)],
    );
    const user = await addUser(orm, { plan: 'BASIC', createdAt: '2026-01-01T00:00' });
    await addMovements(orm, user, [
      { kind: 'REALIZED_PNL', amount: '80', at: new Date(day(5).getTime() + 3600_000).toISOString() },
      { kind: 'REALIZED_PNL', amount: '-10', at: new Date(day(2).getTime() + 3600_000).toISOString() },
    ]);
    await first.stop();

    const node = await startTestApp({ database: db });
    try {
      // The second node's start-up run has finished (its user-days are written one day after another, oldest first).
      await eventuallyExpect(async () => {
        const [{ n }] = await node.app.services.orm.em.fork().execute(`select count(*)::int as n from job_runs where job = 'profit-settlement' and status = 'DONE'`);
        expect(n).toBeGreaterThanOrEqual(2);
      });
      await eventuallyExpect(async () => {
        const rows = await node.app.services.orm.em.fork().execute<any[]>(
          `select period_start, platform_fee from user_profits where user_id = ? order by period_start`,
          [user],
        );
        expect(rows.map((r: { period_start: string; platform_fee: string }) => [iso(new Date(r.period_start)), r.platform_fee])).toEqual([
          [iso(day(5)), '16.0000000000'],
          [iso(day(2)), '0.0000000000'],
        ]);
      });
      const closings = await node.app.services.orm.em.fork().execute<any[]>(`select period_start from billing_closings where kind = 'DAY' and final order by period_start`);
      const settled = closings.map((r: { period_start: string }) => iso(new Date(r.period_start)));
      // Every day from the refresh of the last settled one through yesterday, five of them beyond the two-day backfill.
      expect(settled).toEqual(expect.arrayContaining([7, 6, 5, 4, 3, 2, 1].map((n) => iso(day(n)))));
      const [run] = await node.app.services.orm.em.fork().execute<any[]>(`select status, detail from job_runs where job = 'profit-settlement' and status = 'DONE' order by finished_at desc limit 1`);
      expect(run.detail.days).toEqual(expect.arrayContaining([iso(day(5)), iso(day(1))]));
      expect(run.detail.settled).toBeGreaterThanOrEqual(2);
      // The run is audited, with no actor: the system did it.
      const [audit] = await node.app.services.orm.em.fork().execute<any[]>(`select actor_id, detail from audit_logs where action = 'billing.settlement_run' order by created_at desc limit 1`);
      expect(audit).toMatchObject({ actor_id: null, detail: expect.stringMatching(/user-days settled/) });
    } finally {
      await node.stop();
    }
  });
});
