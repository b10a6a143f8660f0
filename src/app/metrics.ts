import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { EngineMetrics } from '../engine/metrics-port';

/** What /metrics reads at scrape time instead of being told. */
export interface ScrapeSources {
  /** The Binance traffic control shared by this node's gateways. */
  traffic: { weightUsed: number; weightBudget: number; pausedForMs: number };
  leading(): boolean;
  /** When this node last saw a market price for the strategy's symbol. */
  lastPriceAt(): Date | null;
  sockets(): number;
  bus: { publishFailures: number };
}

const SECOND_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120];

/**
 * Prometheus metrics of one node (docs/operations.md says what each means).
 * The engine reports events through the EngineMetrics port; everything that
 * is plain state is read when scraped.
 */
export class AppMetrics implements EngineMetrics {
  readonly registry = new Registry();
  private sources: ScrapeSources | null = null;
  private busFailuresSeen = 0;

  private readonly fanOut = new Histogram({
    name: 'signal_fanout_seconds',
    help: 'Time from a signal to the last user outcome, on the node that executed it',
    buckets: SECOND_BUCKETS,
    registers: [this.registry],
  });
  private readonly outcomes = new Counter({
    name: 'user_executions_total',
    help: 'Per-user outcomes of signals executed on this node (each signal is counted by one node only)',
    labelNames: ['status'],
    registers: [this.registry],
  });
  private readonly pauses = new Counter({
    name: 'binance_pauses_total',
    help: 'Times Binance paused this node: 429 (rate_limited) or 418 (ip_banned)',
    labelNames: ['kind'],
    registers: [this.registry],
  });
  private readonly riskLocks = new Counter({
    name: 'risk_locks_total',
    help: 'Users locked by their risk guard, by the limit crossed',
    labelNames: ['kind'],
    registers: [this.registry],
  });
  private readonly reconcileSeconds = new Histogram({
    name: 'reconciliation_duration_seconds',
    help: 'Duration of one reconciliation pass over every account',
    buckets: SECOND_BUCKETS,
    registers: [this.registry],
  });
  private readonly divergences = new Counter({
    name: 'reconciliation_divergences_total',
    help: 'Records the reconciler had to correct (orders settled, trades the stream missed)',
    registers: [this.registry],
  });
  private readonly streams = new Gauge({
    name: 'user_streams_connected',
    help: 'Binance user-data streams open on this node',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    const self = this;
    const gauge = (name: string, help: string, read: (s: ScrapeSources) => number) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          if (self.sources) this.set(read(self.sources));
        },
      });
    gauge('binance_request_weight_used', 'Binance request weight this node used in the current minute', (s) => s.traffic.weightUsed);
    gauge('binance_request_weight_limit', 'Request weight per minute this node allows itself (Binance: 2,400 per IP)', (s) => s.traffic.weightBudget);
    gauge('binance_pause_remaining_seconds', 'Seconds until this node may call Binance again after a 429/418 (0: not paused)', (s) => s.traffic.pausedForMs / 1000);
    gauge('strategy_leader', '1 on the node that leads the strategy (runs the feed, streams, reconciler), 0 elsewhere', (s) => (s.leading() ? 1 : 0));
    gauge('market_feed_staleness_seconds', 'Seconds since this node last saw a market price (+Inf before the first)', (s) => {
      const at = s.lastPriceAt();
      return at ? Math.max(0, (Date.now() - at.getTime()) / 1000) : Number.POSITIVE_INFINITY;
    });
    gauge('graphql_ws_connections', 'Open graphql-ws connections on this node', (s) => s.sockets());
    new Counter({
      name: 'bus_publish_failures_total',
      help: 'Events this node could not publish to Redis (lost)',
      registers: [this.registry],
      collect() {
        if (!self.sources) return;
        const now = self.sources.bus.publishFailures;
        this.inc(Math.max(0, now - self.busFailuresSeen));
        self.busFailuresSeen = now;
      },
    });
  }

  /** Binds the scrape-time sources once the node is built. */
  observe(sources: ScrapeSources): void {
    this.sources = sources;
  }

  pauseStarted(kind: 'rate_limited' | 'ip_banned'): void {
    this.pauses.inc({ kind });
  }

  riskLocked(kind: string): void {
    this.riskLocks.inc({ kind });
  }

  reconciled(durationMs: number, divergences: number): void {
    this.reconcileSeconds.observe(durationMs / 1000);
    this.divergences.inc(divergences);
  }

  streamsConnected(n: number): void {
    this.streams.set(n);
  }

  signalExecuted(outcome: { durationMs: number; placed: number; skipped: number; failed: number }): void {
    this.fanOut.observe(outcome.durationMs / 1000);
    this.outcomes.inc({ status: 'PLACED' }, outcome.placed);
    this.outcomes.inc({ status: 'SKIPPED' }, outcome.skipped);
    this.outcomes.inc({ status: 'FAILED' }, outcome.failed);
  }
}
