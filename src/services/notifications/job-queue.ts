import type { JobScheduler } from '../../jobs/job-scheduler';

/**
 * The slice of the cluster's job scheduler (`src/jobs/`, graphile-worker on
 * PostgreSQL) that notifications and the account life cycle use: enqueue a
 * task, and declare the tasks this module works.
 */
export type { EnqueueOptions, JobQueue, SqlRunner, TaskContext, TaskHandler } from '../../jobs/job-scheduler';

export type TaskRegistry = Pick<JobScheduler, 'define'>;
