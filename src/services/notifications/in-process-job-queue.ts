import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { EnqueueOptions, JobQueue, TaskHandler, TaskRegistry } from './job-queue';

const DEFAULT_MAX_ATTEMPTS = 5;

/** graphile-worker's retry delay after the n-th failed attempt: e^n seconds (capped at n = 10). */
export const exponentialBackoffMs = (attempt: number) => Math.round(Math.exp(Math.min(attempt, 10)) * 1000);

/**
 * Stand-in for the PostgreSQL job scheduler while it is not wired: runs each
 * job on this node, off the caller's path, retrying with the same backoff as
 * graphile-worker. Jobs live in memory only, so a restart loses the waiting
 * ones: acceptable for a stand-in, and the reason it is one.
 */
export class InProcessJobQueue implements JobQueue, TaskRegistry {
  private readonly tasks = new Map<string, { handler: TaskHandler; maxAttempts?: number }>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly running = new Set<Promise<void>>();
  private stopped = false;

  constructor(private readonly options: { logger: Logger; backoffMs?: (attempt: number) => number }) {}

  define(task: string, handler: TaskHandler, options: { maxAttempts?: number } = {}): this {
    if (this.tasks.has(task)) throw new Error(`task ${task} defined twice`);
    this.tasks.set(task, { handler, ...options });
    return this;
  }

  async enqueue(task: string, payload: Record<string, unknown>, options: EnqueueOptions = {}): Promise<void> {
    const entry = this.tasks.get(task);
    if (!entry) throw new Error(`no task ${task} is defined`);
    if (this.stopped) throw new Error('the job queue is stopped');
    const job = { id: randomUUID(), task, payload, maxAttempts: options.maxAttempts ?? entry.maxAttempts ?? DEFAULT_MAX_ATTEMPTS };
    const delay = options.runAt ? Math.max(0, options.runAt.getTime() - Date.now()) : 0;
    this.schedule(() => this.attempt(job, entry.handler, 1), delay);
  }

  /** Drops waiting retries and waits for the attempts in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await Promise.allSettled([...this.running]);
  }

  private schedule(run: () => Promise<void>, delayMs: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      const running = run().finally(() => this.running.delete(running));
      this.running.add(running);
    }, delayMs);
    timer.unref();
    this.timers.add(timer);
  }

  private async attempt(
    job: { id: string; task: string; payload: Record<string, unknown>; maxAttempts: number },
    handler: TaskHandler,
    attempt: number,
  ): Promise<void> {
    try {
      await handler(job.payload, { attempt, maxAttempts: job.maxAttempts, jobId: job.id });
    } catch (err) {
      const log = { jobId: job.id, task: job.task, attempt, maxAttempts: job.maxAttempts, err: (err as Error)?.message };
      if (attempt >= job.maxAttempts || this.stopped) {
        this.options.logger.error(log, 'job failed for the last time; giving up');
        return;
      }
      const delay = (this.options.backoffMs ?? exponentialBackoffMs)(attempt);
      this.options.logger.warn({ ...log, retryInMs: delay }, 'job failed; retrying');
      this.schedule(() => this.attempt(job, handler, attempt + 1), delay);
    }
  }
}
