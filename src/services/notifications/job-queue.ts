/**
 * The slice of the cluster's job scheduler that notifications need. It has
 * the shape of `JobQueue` / `JobScheduler.define` in `src/jobs/` (graphile-worker
 * on PostgreSQL), so the scheduler plugs in here unchanged; until it is wired,
 * `InProcessJobQueue` stands in.
 */
export interface EnqueueOptions {
  /** At most one pending job per key. */
  jobKey?: string;
  runAt?: Date;
  /** Attempts before the job is given up; retries back off exponentially. */
  maxAttempts?: number;
}

export interface JobQueue {
  enqueue(task: string, payload: Record<string, unknown>, options?: EnqueueOptions): Promise<void>;
}

export interface TaskContext {
  attempt: number;
  maxAttempts: number;
  jobId: string;
}

export type TaskHandler = (payload: Record<string, unknown>, ctx: TaskContext) => Promise<void>;

/** Where a module declares the tasks it can work (before the scheduler starts). */
export interface TaskRegistry {
  define(task: string, handler: TaskHandler, options?: { maxAttempts?: number }): unknown;
}
