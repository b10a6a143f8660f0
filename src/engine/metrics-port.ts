/**
 * What the engine reports to whoever watches it (the app's Prometheus
 * metrics), as plain calls at the spots where things happen. State that can
 * be read at scrape time (weight used, pause left, leadership) is read there
 * instead and needs no call here.
 */
export interface EngineMetrics {
  /** Binance answered 429 (rate_limited) or 418 (ip_banned): every request from this node pauses. */
  pauseStarted(kind: 'rate_limited' | 'ip_banned'): void;
  /** A user's risk guard locked them (kind: the limit crossed). */
  riskLocked(kind: string): void;
  /** One reconciliation pass over every account; divergences: records it had to correct. */
  reconciled(durationMs: number, divergences: number): void;
  /** User-data streams open on this node after a sync. */
  streamsConnected(n: number): void;
  /** A signal's fan-out finished on this node (counted once per cluster: only the executing node calls it). */
  signalExecuted(outcome: { durationMs: number; placed: number; skipped: number; failed: number }): void;
}

export const noEngineMetrics: EngineMetrics = {
  pauseStarted: () => undefined,
  riskLocked: () => undefined,
  reconciled: () => undefined,
  streamsConnected: () => undefined,
  signalExecuted: () => undefined,
};
