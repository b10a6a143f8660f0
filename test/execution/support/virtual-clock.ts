import type { ExecutionClock } from '../../../src/engine/execution/execution-clock';

interface Timer {
  at: number;
  seq: number;
  fire: () => void;
}

const flushMicrotasks = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Discrete-event time for engine tests: `sleep` registers a timer, and `run`
 * lets every promise settle, then jumps to the next timer, until the awaited
 * promise settles. No real waiting, and races resolve in virtual-time order.
 */
export class VirtualClock implements ExecutionClock {
  private t: number;
  private seq = 0;
  private timers: Timer[] = [];

  constructor(start = Date.UTC(2025, 0, 6, 12, 0, 0)) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  /** Virtual time is the wall time too. */
  wallNow(): number {
    return this.t;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const timer: Timer = { at: this.t + Math.max(0, ms), seq: this.seq++, fire: resolve };
      this.timers.push(timer);
      signal?.addEventListener(
        'abort',
        () => {
          this.timers = this.timers.filter((x) => x !== timer);
          resolve();
        },
        { once: true },
      );
    });
  }

  get pendingTimers(): number {
    return this.timers.length;
  }

  async run<T>(promise: Promise<T>): Promise<T> {
    let settled = false;
    promise.then(
      () => (settled = true),
      () => (settled = true),
    );
    for (let step = 0; step < 100_000; step++) {
      await flushMicrotasks();
      if (settled) return promise;
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers.shift();
      if (!next) throw new Error('virtual clock: the promise waits on something other than time');
      this.t = next.at;
      next.fire();
    }
    throw new Error('virtual clock: too many steps');
  }
}
