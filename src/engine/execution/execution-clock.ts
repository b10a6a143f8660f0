/**
 * Time as the execution core sees it, injected so tests run on a virtual or
 * fixed clock with no real waiting. Deadlines passed to the engine must come
 * from the same clock's `now()`. Every time read on a signal's path (fan-out,
 * per-user task, order placement) goes through this, never `Date.now()`.
 */
export interface ExecutionClock {
  /** Milliseconds; only differences and comparisons with deadlines from this clock mean anything. */
  now(): number;
  /**
   * Epoch milliseconds on the wall clock, for comparing with instants stored in
   * rows (a signal's or an order's `createdAt`, stamped by the database side
   * with wall time). Not for deadlines: a wall clock can step.
   */
  wallNow(): number;
  /** Resolves after `ms`, or at once when `signal` aborts (never rejects), so a lost race leaves no timer behind. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: ExecutionClock = {
  // Monotonic rather than Date.now(): an NTP step must not shorten a deadline or make a latency negative.
  now: () => performance.timeOrigin + performance.now(),
  // The real wall clock, never the business clock (ports' Clock) that tests move by days: rows are stamped with real time.
  wallNow: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      signal?.addEventListener('abort', done, { once: true });
    }),
};
