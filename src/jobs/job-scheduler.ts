import { Logger as WorkerLogger, parseCronItems, run, type JobHelpers, type Runner, type TaskList } from 'graphile-worker';
import { Pool } from 'pg';
import type { Logger } from 'pino';

export interface EnqueueOptions {
  /** At most one pending job per key: enqueueing the same key again replaces the waiting one. */
  jobKey?: string;
  runAt?: Date;
  /** Attempts before the job is given up (retries back off exponentially: e^attempt seconds). */
  maxAttempts?: number;
  /** Only nodes that do not forbid these flags work the job (e.g. 'leader': the strategy leader only). */
  flags?: string[];
  /** Jobs of one named queue run one at a time, oldest first, across the cluster. */
  queueName?: string;
  /**
   * Added in the caller's open transaction (graphile-worker's `add_job` SQL): the job exists if and only if
   * the transaction commits, so a row marked "queued" can never be left without its job. A failure throws.
   */
  within?: SqlRunner;
}

/** Whatever runs SQL in the caller's transaction (a MikroORM EntityManager inside `transactional`). */
export interface SqlRunner {
  execute(sql: string, params: unknown[]): Promise<unknown>;
}

/** What services need to hand work to the cluster's queue (mail, one-off engine work). */
export interface JobQueue {
  enqueue(task: string, payload: Record<string, unknown>, options?: EnqueueOptions): Promise<void>;
}

export interface TaskContext {
  attempt: number;
  maxAttempts: number;
  jobId: string;
  /** Set when the scheduler is shutting down: a long job should stop at its next safe point. */
  signal?: AbortSignal;
}

export type TaskHandler = (payload: Record<string, unknown>, ctx: TaskContext) => Promise<void>;

export interface PeriodicRun {
  /** The cron instant this run is for; a run caught up after downtime carries a past instant. */
  scheduledFor: Date;
  backfilled: boolean;
  signal?: AbortSignal;
}

export interface PeriodicJob {
  /** Stable name: the cron identifier and the `job_runs.job` column. */
  name: string;
  /** Five-field cron pattern, evaluated in UTC. */
  schedule: string;
  /** How far back missed runs are caught up at start (graphile-worker backfill). */
  catchUpMs: number;
  /** Returns what the run did (stored in job_runs.detail). */
  run(run: PeriodicRun): Promise<Record<string, unknown> | void>;
  maxAttempts?: number;
  /**
   * Also run once at every start (a job whose run catches up from its own records, beyond `catchUpMs`).
   * Nodes starting together share one pending start run, and it waits in the job's queue behind any run
   * under way, so a run at start finds what an earlier one already did.
   */
  runAtStart?: boolean;
}

/**
 * The cluster's job scheduler: graphile-worker on the application's own
 * PostgreSQL, so it also runs on the embedded default with no Redis. Every node
 * runs a worker; a cron instant is scheduled exactly once per cluster
 * (graphile-worker's known_crontabs), missed instants are backfilled at start,
 * jobs survive restarts and failed ones retry with exponential backoff. Each
 * periodic run is recorded in `job_runs`.
 */
export class JobScheduler implements JobQueue {
  private readonly tasks = new Map<string, { handler: TaskHandler; maxAttempts?: number }>();
  private readonly periodic = new Map<string, PeriodicJob>();
  private runner: Runner | null = null;
  private starting: Promise<Runner> | null = null;
  private pool: Pool | null = null;

  constructor(
    private readonly options: {
      connectionString: string;
      logger: Logger;
      concurrency?: number;
      pollIntervalMs?: number;
      /** Flags this node refuses at this moment (asked before each fetch): how work is routed to one role. */
      forbiddenFlags?: () => string[] | null;
    },
  ) {}

  /** Registers a task a job can name; only this node's registered tasks are worked here. */
  define(task: string, handler: TaskHandler, options: { maxAttempts?: number } = {}): this {
    if (this.runner || this.starting) throw new Error(`task ${task} defined after the scheduler started`);
    this.tasks.set(task, { handler, ...options });
    return this;
  }

  every(job: PeriodicJob): this {
    if (this.runner || this.starting) throw new Error(`periodic job ${job.name} defined after the scheduler started`);
    if (this.periodic.has(job.name) || this.tasks.has(job.name)) throw new Error(`job ${job.name} defined twice`);
    this.periodic.set(job.name, job);
    return this;
  }

  start(): Promise<Runner> {
    if (this.starting) return this.starting;
    // Our own pool, so an idle connection the server ends (a restart, a dropped database) is logged, never an unhandled 'error'.
    const pool = new Pool({ connectionString: this.options.connectionString, max: 4 });
    pool.on('error', (err) => this.options.logger.warn({ module: 'jobs', err: err.message }, 'job scheduler database connection lost'));
    this.pool = pool;
    this.starting = run({
      pgPool: pool,
      concurrency: this.options.concurrency ?? 4,
      pollInterval: this.options.pollIntervalMs ?? 2000,
      noHandleSignals: true,
      forbiddenFlags: this.options.forbiddenFlags ?? null,
      logger: workerLogger(this.options.logger),
      taskList: this.taskList(),
      parsedCronItems: parseCronItems(
        [...this.periodic.values()].map((job) => ({
          task: job.name,
          identifier: job.name,
          match: job.schedule,
          // A queue per job: its runs (a backlog caught up at start included) go one at a time, oldest first.
          options: { backfillPeriod: job.catchUpMs, maxAttempts: job.maxAttempts ?? 5, queueName: periodicQueue(job.name) },
        })),
      ),
    }).then(async (runner) => {
      try {
        for (const job of this.periodic.values()) {
          if (job.runAtStart) await this.addPeriodicRun(runner, job.name, new Date(), `${periodicQueue(job.name)}:start`);
        }
      } catch (err) {
        await runner.stop().catch(() => undefined);
        await pool.end().catch(() => undefined);
        throw err;
      }
      this.runner = runner;
      return runner;
    });
    return this.starting;
  }

  async stop(): Promise<void> {
    const starting = this.starting;
    this.starting = null;
    if (!starting) return;
    const runner = await starting.catch(() => null);
    this.runner = null;
    await runner?.stop();
    const pool = this.pool;
    this.pool = null;
    await pool?.end().catch(() => undefined);
  }

  async enqueue(task: string, payload: Record<string, unknown>, options: EnqueueOptions = {}): Promise<void> {
    if (!this.starting) throw new Error('the job scheduler is not running');
    const runner = this.runner ?? (await this.starting);
    const maxAttempts = options.maxAttempts ?? this.tasks.get(task)?.maxAttempts;
    if (options.within) {
      await options.within.execute(
        // The flags travel as JSON: the query builder would spread a JS array into one placeholder per element.
        `select graphile_worker.add_job(?, ?::json, queue_name => ?, run_at => ?, max_attempts => ?, job_key => ?,
           flags => (select array_agg(f) from json_array_elements_text(?::json) f))`,
        [task, JSON.stringify(payload), options.queueName ?? null, options.runAt ?? null, maxAttempts ?? null, options.jobKey ?? null,
          options.flags ? JSON.stringify(options.flags) : null],
      );
      return;
    }
    await runner.addJob(task, payload, { jobKey: options.jobKey, runAt: options.runAt, maxAttempts, flags: options.flags, queueName: options.queueName });
  }

  /**
   * Runs a periodic job now, as if its instant had come (an operator's catch-up,
   * a test): through the queue and recorded in job_runs like a scheduled run.
   */
  async trigger(name: string, scheduledFor = new Date()): Promise<void> {
    if (!this.periodic.has(name)) throw new Error(`no periodic job ${name}`);
    if (!this.starting) throw new Error('the job scheduler is not running');
    await this.addPeriodicRun(this.runner ?? (await this.starting), name, scheduledFor);
  }

  /** A run of a periodic job outside its cron instants, in the job's own queue: never beside a scheduled run of it. */
  private async addPeriodicRun(runner: Runner, name: string, scheduledFor: Date, jobKey?: string): Promise<void> {
    await runner.addJob(name, { _cron: { ts: scheduledFor.toISOString() } }, {
      queueName: periodicQueue(name),
      jobKey,
      maxAttempts: this.periodic.get(name)?.maxAttempts ?? 5,
    });
  }

  private taskList(): TaskList {
    const list: TaskList = {};
    for (const [name, task] of this.tasks) {
      list[name] = (payload, helpers) =>
        task.handler((payload ?? {}) as Record<string, unknown>, {
          attempt: helpers.job.attempts,
          maxAttempts: helpers.job.max_attempts,
          jobId: helpers.job.id,
          signal: helpers.abortSignal,
        });
    }
    for (const [name, job] of this.periodic) list[name] = (payload, helpers) => this.runPeriodic(job, payload, helpers);
    return list;
  }

  /** Runs one cron instant of a periodic job and records it in job_runs (a retry of the same instant updates its row). */
  private async runPeriodic(job: PeriodicJob, payload: unknown, helpers: JobHelpers): Promise<void> {
    const cron = (payload as { _cron?: { ts: string; backfilled?: boolean } } | null)?._cron;
    const scheduledFor = cron ? new Date(cron.ts) : new Date();
    const backfilled = cron?.backfilled === true;
    await helpers.query(
      `insert into job_runs (id, job, scheduled_for, backfilled, status, attempts, started_at)
       values (gen_random_uuid(), $1, $2, $3, 'RUNNING', 1, now())
       on conflict (job, scheduled_for) do update set status = 'RUNNING', attempts = job_runs.attempts + 1, started_at = now(), error = null`,
      [job.name, scheduledFor, backfilled],
    );
    try {
      const detail = await job.run({ scheduledFor, backfilled, signal: helpers.abortSignal });
      await helpers.query(
        `update job_runs set status = 'DONE', finished_at = now(), detail = $3 where job = $1 and scheduled_for = $2`,
        [job.name, scheduledFor, detail ? JSON.stringify(detail) : null],
      );
    } catch (err) {
      await helpers.query(`update job_runs set status = 'FAILED', finished_at = now(), error = $3 where job = $1 and scheduled_for = $2`, [
        job.name,
        scheduledFor,
        err instanceof Error ? err.message.slice(0, 2000) : String(err).slice(0, 2000),
      ]);
      throw err;
    }
  }
}

const periodicQueue = (name: string) => `periodic:${name}`;

/**
 * graphile-worker's log calls, routed into pino. A job is logged by its id,
 * task and attempts, never with its payload: payloads can hold addresses and
 * other data that does not belong in a log.
 */
function workerLogger(logger: Logger): WorkerLogger {
  const child = logger.child({ module: 'jobs' });
  return new WorkerLogger((scope) => (level, message, meta) => {
    const { job, error, fatalError, ...rest } = (meta ?? {}) as Record<string, unknown> & {
      job?: { id?: string; task_identifier?: string; attempts?: number; max_attempts?: number };
      error?: unknown;
      fatalError?: unknown;
    };
    const fields: Record<string, unknown> = { ...scope, ...rest };
    if (job) fields.job = { id: job.id, task: job.task_identifier, attempts: job.attempts, maxAttempts: job.max_attempts };
    const failure = error ?? fatalError;
    if (failure) fields.err = failure instanceof Error ? failure.message : String(failure);
    if (level === 'error') child.error(fields, message);
    else if (level === 'warning') child.warn(fields, message);
    else if (level === 'info') child.info(fields, message);
    else child.debug(fields, message);
  });
}
