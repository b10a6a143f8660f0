import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { EventBus } from '../realtime/event-bus';
import { Topic } from '../realtime/topics';

interface ReportEvent {
  total: number;
  placed: number;
  skipped: number;
  failed: number;
  durationMs: number;
}

/**
 * Prometheus metrics for /metrics: fan-out latency and outcomes (read off the
 * bus, so they need nothing from the engine), open sockets, process defaults.
 */
export class AppMetrics {
  readonly registry = new Registry();
  private readonly fanOut = new Histogram({
    name: 'signal_fanout_seconds',
    help: 'Time from a signal to the last user outcome',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
    registers: [this.registry],
  });
  private readonly outcomes = new Counter({
    name: 'user_executions_total',
    help: 'Per-user outcomes of signals',
    labelNames: ['status'],
    registers: [this.registry],
  });
  readonly sockets = new Gauge({ name: 'graphql_ws_connections', help: 'Open graphql-ws connections', registers: [this.registry] });
  private stream: (AsyncIterable<ReportEvent> & AsyncIterator<ReportEvent>) | null = null;

  constructor(bus: EventBus) {
    collectDefaultMetrics({ register: this.registry });
    const stream = bus.subscribe<ReportEvent>(Topic.EXECUTION_REPORTS);
    this.stream = stream;
    void (async () => {
      for await (const report of stream) {
        this.fanOut.observe(report.durationMs / 1000);
        this.outcomes.inc({ status: 'PLACED' }, report.placed);
        this.outcomes.inc({ status: 'SKIPPED' }, report.skipped);
        this.outcomes.inc({ status: 'FAILED' }, report.failed);
      }
    })().catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.stream?.return?.();
  }
}
