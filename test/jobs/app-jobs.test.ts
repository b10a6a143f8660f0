import { runMigrations } from 'graphile-worker';
import { createLogger } from '../../src/config/logger';
import { KEY_REVERIFICATION_JOB, registerAppJobs } from '../../src/jobs/app-jobs';
import { JobScheduler } from '../../src/jobs/job-scheduler';
import type { ReverificationSummary } from '../../src/services/key-reverification.job';
import { eventuallyExpect } from '../support/eventually';
import { createMigratedOrm, queryDatabase as query } from '../support/test-database';

const logger = createLogger('silent');
const DAY = 86_400_000;
const HOUR = 3_600_000;

/** The application's periodic jobs as the scheduler runs them (their work stubbed: only the wiring is under test). */
describe('the cluster jobs on the scheduler', () => {
  let db: Awaited<ReturnType<typeof createMigratedOrm>>;
  beforeAll(async () => {
    db = await createMigratedOrm('app_jobs');
  });
  afterAll(() => db.close());

  it('runs the daily key re-verification at 03:00 UTC once per cluster, catching up the instants missed while every node was down', async () => {
    await runMigrations({ connectionString: db.db.url, logger: undefined });
    // The last 03:00 UTC that has passed; the job last ran two such instants before it.
    const now = Date.now();
    const lastInstant = Math.floor((now - 3 * HOUR) / DAY) * DAY + 3 * HOUR;
    const lastRun = new Date(lastInstant - 2 * DAY);
    await query(db.db.url, `insert into graphile_worker._private_known_crontabs (identifier, known_since, last_execution) values ($1, $2, $3)`, [
      KEY_REVERIFICATION_JOB,
      new Date(lastRun.getTime() - 30 * DAY),
      lastRun,
    ]);
    const runs: Array<{ node: string; signal: boolean }> = [];
    const node = (name: string) => {
      const scheduler = new JobScheduler({ connectionString: db.db.url, logger, pollIntervalMs: 200 });
      registerAppJobs(scheduler, {
        keyReverification: {
          run: async (signal?: AbortSignal): Promise<ReverificationSummary> => {
            runs.push({ node: name, signal: signal instanceof AbortSignal });
            return { checked: 3, newlyInvalid: 1, unreachable: 0, timedOut: 1 };
          },
        },
        engine: { reconcileNow: async () => null },
        risk: { liftExpired: async () => 0 },
        reconcileEveryMinutes: 60,
        billing: {
          settlement: { catchUp: async () => ({ days: [], settled: 0, deferred: 0, late: 0 }) },
          issuer: { issueDue: async () => [] },
          overdue: { run: async () => ({ notified: 0, failed: 0 }) },
        },
      });
      return scheduler;
    };
    const a = node('a');
    const b = node('b');
    await Promise.all([a.start(), b.start()]);
    try {
      const expected = [lastInstant - DAY, lastInstant].map((ms) => new Date(ms).toISOString());
      await eventuallyExpect(async () => {
        const rows = await query<{ scheduled_for: Date; status: string; detail: unknown }>(
          db.db.url,
          `select scheduled_for, status, detail from job_runs where job = $1 order by scheduled_for`,
          [KEY_REVERIFICATION_JOB],
        );
        expect(rows.map((r) => [r.scheduled_for.toISOString(), r.status, r.detail])).toEqual(
          expected.map((ts) => [ts, 'DONE', { checked: 3, newlyInvalid: 1, unreachable: 0, timedOut: 1 }]),
        );
      }, 15_000);
      // Two nodes, two instants: two runs in all, each handed the scheduler's stop signal.
      expect(runs).toHaveLength(2);
      expect(runs.every((r) => r.signal)).toBe(true);
      const [cron] = await query<{ identifier: string; last_execution: Date }>(
        db.db.url,
        `select identifier, last_execution from graphile_worker._private_known_crontabs where identifier = $1`,
        [KEY_REVERIFICATION_JOB],
      );
      expect(cron.last_execution.toISOString()).toBe(expected[1]);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  }, 30_000);
});
