import { createHash } from 'node:crypto';
import pLimit from 'p-limit';
import { systemClock, type ExecutionClock } from './execution-clock';

export interface FanOutTask<T> {
  /** The user id; unique within one fan-out. */
  key: string;
  run(context: FanOutTaskContext): Promise<T>;
}

export interface FanOutTaskContext {
  /** Position in this fan-out's dispatch order, 0 = first. */
  rank: number;
  /** Aborted when the task's timeout fires: work not yet sent to the exchange should not be sent any more. */
  signal: AbortSignal;
}

export interface FanOutOptions {
  /** Tasks running at once (ENGINE_CONCURRENCY). */
  concurrency: number;
  /** Per task, counted from the moment it starts running, not from when it was queued. */
  taskTimeoutMs: number;
  /** The signal id (hashed) or a counter: decides who is dispatched first, so nobody is always last. */
  rotation: string | number;
  clock?: ExecutionClock;
  /** Adds process CPU time spent during the fan-out to the report (for the benchmark). */
  measureCpu?: boolean;
  /** A timed-out task that settles later: its order may still have been placed, so the caller must record it. */
  onLateSettle?: (late: LateSettlement<unknown>) => void;
}

type Settled<T> = { status: 'fulfilled'; value: T } | { status: 'rejected'; error: unknown };

export type FanOutResult<T> = (Settled<T> | { status: 'timeout' }) & {
  key: string;
  rank: number;
  /** From the start of the fan-out to this task's start (time queued behind the pool). */
  queuedMs: number;
  /** The task's own duration, up to its completion or its timeout. */
  durationMs: number;
  /** From the start of the fan-out to this task's completion or timeout. */
  latencyMs: number;
};

export type LateSettlement<T> = Settled<T> & { key: string; rank: number; durationMs: number };

export interface FanOutReport<T> {
  /** In dispatch (rank) order. */
  results: FanOutResult<T>[];
  startedAt: number;
  wallMs: number;
  /** The most tasks seen running at once (never above `concurrency`). */
  maxInFlight: number;
  /** Process-wide microseconds, so anything else running meanwhile is counted too. */
  cpu: { userMicros: number; systemMicros: number } | null;
}

const TIMEOUT = Symbol('timeout');

/**
 * Runs one task per user on a bounded pool. Results are collected with
 * allSettled and every task is isolated: a throw becomes 'rejected', a hang
 * becomes 'timeout' and frees its pool slot, neither touches the others. A
 * timed-out task keeps running in the background (it cannot be killed); its
 * promise stays observed and its late outcome goes to `onLateSettle`.
 */
export async function fanOut<T>(tasks: readonly FanOutTask<T>[], options: FanOutOptions): Promise<FanOutReport<T>> {
  const { concurrency, taskTimeoutMs } = options;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`concurrency must be an integer ≥ 1, got ${concurrency}`);
  if (!(taskTimeoutMs > 0)) throw new RangeError(`task timeout must be positive, got ${taskTimeoutMs}`);
  const clock = options.clock ?? systemClock;
  const ordered = dispatchOrder(tasks, options.rotation);
  const limit = pLimit(concurrency);
  const cpuBefore = options.measureCpu ? process.cpuUsage() : null;
  const startedAt = clock.now();
  let inFlight = 0;
  let maxInFlight = 0;

  const runOne = async (task: FanOutTask<T>, rank: number): Promise<FanOutResult<T>> => {
    const taskStart = clock.now();
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const abort = new AbortController();
    const timer = new AbortController();
    // Promise.resolve().then: a task that throws synchronously is a rejection like any other.
    const settled: Promise<Settled<T>> = Promise.resolve()
      .then(() => task.run({ rank, signal: abort.signal }))
      .then(
        (value) => ({ status: 'fulfilled' as const, value }),
        (error: unknown) => ({ status: 'rejected' as const, error }),
      );
    const first = await Promise.race([settled, clock.sleep(taskTimeoutMs, timer.signal).then((): typeof TIMEOUT => TIMEOUT)]);
    timer.abort();
    inFlight -= 1;
    const end = clock.now();
    const timing = { key: task.key, rank, queuedMs: taskStart - startedAt, durationMs: end - taskStart, latencyMs: end - startedAt };
    if (first !== TIMEOUT) return { ...first, ...timing };
    abort.abort();
    void settled.then((late) => reportLate(options.onLateSettle, { ...late, key: task.key, rank, durationMs: clock.now() - taskStart }));
    return { status: 'timeout', ...timing };
  };

  const outcomes = await Promise.allSettled(ordered.map((task, rank) => limit(() => runOne(task, rank))));
  const results = outcomes.map((outcome, rank): FanOutResult<T> => {
    if (outcome.status === 'fulfilled') return outcome.value;
    // runOne does not throw; this keeps a bug in it from losing a user's row.
    const end = clock.now();
    return { status: 'rejected', error: outcome.reason, key: ordered[rank].key, rank, queuedMs: 0, durationMs: 0, latencyMs: end - startedAt };
  });
  const cpu = cpuBefore ? process.cpuUsage(cpuBefore) : null;
  return {
    results,
    startedAt,
    wallMs: clock.now() - startedAt,
    maxInFlight,
    cpu: cpu ? { userMicros: cpu.user, systemMicros: cpu.system } : null,
  };
}

/**
 * Tasks sorted by key (so the rotation means the same thing whatever order
 * the caller loaded users in), then rotated to start at `rotationOffset`.
 */
export function dispatchOrder<T extends { key: string }>(tasks: readonly T[], rotation: string | number): T[] {
  const sorted = [...tasks].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].key === sorted[i - 1].key) throw new RangeError(`duplicate task key ${sorted[i].key}`);
  }
  const offset = rotationOffset(rotation, sorted.length);
  return [...sorted.slice(offset), ...sorted.slice(0, offset)];
}

/** A counter rotates by one per signal; a signal id hashes to a uniform start. */
export function rotationOffset(rotation: string | number, size: number): number {
  if (size === 0) return 0;
  if (typeof rotation === 'number') return ((Math.trunc(rotation) % size) + size) % size;
  return createHash('sha256').update(rotation).digest().readUInt32BE(0) % size;
}

function reportLate(hook: FanOutOptions['onLateSettle'], late: LateSettlement<unknown>): void {
  try {
    hook?.(late);
  } catch {
    // The hook is the caller's; its failure must not become an unhandled rejection here.
  }
}
