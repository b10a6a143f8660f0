import type { KeyReverificationJob } from '../services/key-reverification.job';
import type { JobScheduler } from './job-scheduler';

const DAY_MS = 24 * 60 * 60 * 1000;

/** The cluster's periodic work, each run once per cluster at its instant and caught up after downtime. */
export function registerAppJobs(scheduler: JobScheduler, deps: { keyReverification: KeyReverificationJob }): void {
  scheduler.every({
    name: 'key-reverification',
    // 03:00 UTC, away from the settlement at midnight; a day missed while every node was down runs at start.
    schedule: '0 3 * * *',
    catchUpMs: 2 * DAY_MS,
    run: async () => ({ ...(await deps.keyReverification.run()) }),
  });
}
