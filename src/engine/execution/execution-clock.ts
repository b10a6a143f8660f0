/**
 * Time as the execution core sees it, injected so tests run on a virtual clock
 * with no real waiting. Deadlines passed to the engine must come from the same
 * clock's `now()`.
 */
export interface ExecutionClock {
  /** Milliseconds; only differences and comparisons with deadlines from this clock mean anything. */
  now(): number;
  /** Resolves after `ms`, or at once when `signal` aborts (never rejects), so a lost race leaves no timer behind. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: ExecutionClock = {
  // Monotonic rather than Date.now(): an NTP step must not shorten a deadline or make a latency negative.
  now: () => performance.timeOrigin + performance.now(),
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
