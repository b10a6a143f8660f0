import type { ExecutionClock } from '../../../src/engine/execution/execution-clock';

/**
 * Time that stands still unless the test moves it (`advance`) or the code
 * under test waits: a `sleep` moves it on by exactly what was waited and then
 * resolves on the next turn of the event loop, so database and socket I/O keep
 * flowing (unlike VirtualClock, which only runs promises that wait on time).
 */
export class FixedClock implements ExecutionClock {
  constructor(private t = Date.UTC(2025, 0, 6, 12, 0, 0)) {}

  now(): number {
    return this.t;
  }

  wallNow(): number {
    return this.t;
  }

  /** An instant `ms` before now, as a row would store it. */
  ago(ms: number): Date {
    return new Date(this.t - ms);
  }

  advance(ms: number): void {
    this.t += ms;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (!signal?.aborted) this.t += Math.max(0, ms);
    return new Promise<void>((resolve) => setImmediate(resolve));
  }
}
