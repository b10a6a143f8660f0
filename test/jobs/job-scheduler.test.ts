import { runMigrations } from 'graphile-worker';
import { createLogger } from '../../src/config/logger';
import { JobScheduler, type PeriodicRun } from '../../src/jobs/job-scheduler';
import { eventuallyExpect } from '../support/eventually';
import { LogCapture } from '../support/log-capture';
import { createMigratedOrm, queryDatabase as query } from '../support/test-database';

const logger = createLogger('silent');
const DAY = 86_400_000;

describe('job scheduler (graphile-worker on PostgreSQL)', () => {
  let db: Awaited<ReturnType<typeof createMigratedOrm>>;
  beforeAll(async () => {
    db = await createMigratedOrm('jobs');
  });
  afterAll(() => db.close());

  it('runs an enqueued job once, and retries a failing one until it succeeds, logging the job but never its payload', async () => {
    const logs = new LogCapture();
    const scheduler = new JobScheduler({ connectionString: db.db.url, logger: createLogger('debug', logs), pollIntervalMs: 200 });
    const seen: Array<{ id: unknown; attempt: number }> = [];
    scheduler.define('flaky', async (payload, ctx) => {
      seen.push({ id: payload.id, attempt: ctx.attempt });
      if (ctx.attempt < 2) throw new Error('first attempt fails');
    }, { maxAttempts: 3 });
    await scheduler.start();
    try {
      await scheduler.enqueue('flaky', { id: 'a', email: 'someone-private@example.com' });
      // graphile-worker backs a retry off by e^attempt seconds: the second attempt comes ~2.7 s later.
      await eventuallyExpect(() => expect(seen).toEqual([{ id: 'a', attempt: 1 }, { id: 'a', attempt: 2 }]), 15_000);
    } finally {
      await scheduler.stop();
    }
    const failed = logs.lines.map((l) => JSON.parse(l)).find((l) => /^Failed task/.test(l.msg));
    expect(failed).toMatchObject({ level: 50, job: { task: 'flaky', attempts: 1, maxAttempts: 3 }, err: 'first attempt fails' });
    expect(logs.text()).not.toContain('someone-private@example.com');
  }, 30_000);

  it('catches up every missed run of a periodic job at start, once across two nodes, and records each in job_runs', async () => {
    // The job was known and last ran three days ago: the runs since then were missed while no node was up.
    await runMigrations({ connectionString: db.db.url, logger: undefined });
    const now = Date.now();
    const lastRun = new Date(Math.floor(now / DAY) * DAY - 3 * DAY);
    await query(db.db.url, `insert into graphile_worker._private_known_crontabs (identifier, known_since, last_execution) values ($1, $2, $3)`, [
      'nightly',
      new Date(lastRun.getTime() - DAY),
      lastRun,
    ]);
    const runs: PeriodicRun[] = [];
    const node = () =>
      new JobScheduler({ connectionString: db.db.url, logger, pollIntervalMs: 200 }).every({
        name: 'nightly',
        schedule: '0 0 * * *',
        catchUpMs: 10 * DAY,
        run: async (r) => {
          runs.push(r);
          return { day: r.scheduledFor.toISOString().slice(0, 10) };
        },
      });
    const a = node();
    const b = node();
    await Promise.all([a.start(), b.start()]);
    try {
      const expected = [1, 2, 3].map((n) => new Date(lastRun.getTime() + n * DAY).toISOString());
      await eventuallyExpect(async () => {
        const rows = await query<{ scheduled_for: Date; status: string; backfilled: boolean; detail: { day: string } }>(
          db.db.url,
          `select scheduled_for, status, backfilled, detail from job_runs where job = 'nightly' order by scheduled_for`,
        );
        expect(rows.map((r) => [r.scheduled_for.toISOString(), r.status, r.backfilled, r.detail.day])).toEqual(
          expected.map((ts) => [ts, 'DONE', true, ts.slice(0, 10)]),
        );
      }, 15_000);
      expect(runs.map((r) => r.scheduledFor.toISOString()).sort()).toEqual(expected);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  }, 30_000);

  it('routes a flagged job to the node that does not forbid the flag (the leader), and it waits while none takes it', async () => {
    let aLeads = false;
    const ranOn: string[] = [];
    const node = (name: string, leads: () => boolean) =>
      new JobScheduler({ connectionString: db.db.url, logger, pollIntervalMs: 100, forbiddenFlags: () => (leads() ? null : ['leader']) })
        .define('leader-only', async () => void ranOn.push(name));
    const a = node('a', () => aLeads);
    const b = node('b', () => false);
    await Promise.all([a.start(), b.start()]);
    try {
      await a.enqueue('leader-only', {}, { jobKey: 'leader-only', flags: ['leader'] });
      await new Promise((r) => setTimeout(r, 600));
      expect(ranOn).toEqual([]);
      aLeads = true;
      await eventuallyExpect(() => expect(ranOn).toEqual(['a']), 10_000);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it('refuses work before it starts and definitions after', async () => {
    const scheduler = new JobScheduler({ connectionString: db.db.url, logger });
    await expect(scheduler.enqueue('nothing', {})).rejects.toThrow('not running');
    await scheduler.start();
    try {
      expect(() => scheduler.define('late', async () => undefined)).toThrow('after the scheduler started');
    } finally {
      await scheduler.stop();
    }
  });
});
