import type { Engine } from '../engine/engine';
import type { RiskMonitor } from '../engine/risk/risk-monitor';
import type { DailySettlement } from '../services/billing/daily-settlement';
import type { InvoiceIssuer } from '../services/billing/invoice-issuer';
import type { OverdueNotices } from '../services/billing/overdue-notices';
import type { KeyReverificationJob } from '../services/key-reverification.job';
import type { JobScheduler } from './job-scheduler';

const DAY_MS = 24 * 60 * 60 * 1000;
/** Jobs with this flag are worked only by the strategy leader, which owns the user streams the reconciler checks against. */
export const LEADER_FLAG = 'leader';

/** The cluster's periodic work, each run once per cluster at its instant and caught up after downtime. */
export function registerAppJobs(
  scheduler: JobScheduler,
  deps: {
    keyReverification: Pick<KeyReverificationJob, 'run'>;
    engine: Pick<Engine, 'reconcileNow'>;
    risk: Pick<RiskMonitor, 'liftExpired'>;
    reconcileEveryMinutes: number;
    billing: { settlement: Pick<DailySettlement, 'catchUp'>; issuer: Pick<InvoiceIssuer, 'issueDue'>; overdue: Pick<OverdueNotices, 'run'> };
  },
): void {
  scheduler.every({
    name: KEY_REVERIFICATION_JOB,
    // 03:00 UTC, away from the settlement at midnight; a day missed while every node was down runs at start.
    schedule: '0 3 * * *',
    catchUpMs: 2 * DAY_MS,
    run: async ({ signal }) => ({ ...(await deps.keyReverification.run(signal)) }),
  });

  // Daily and weekly risk locks lift at 00:00 UTC (a Monday's also ends the week's) even when no signal comes.
  scheduler.every({
    name: 'risk-lock-lifts',
    schedule: '0 0 * * *',
    catchUpMs: 2 * DAY_MS,
    run: async () => ({ lifted: await deps.risk.liftExpired() }),
  });

  // Reconciliation: one pass per interval, on the leader. The tick runs on any node and hands the pass to the
  // leader; a pass still waiting is replaced rather than queued twice. A missed tick needs no catch-up: one pass covers it.
  scheduler.define('engine.reconcile', async () => {
    await deps.engine.reconcileNow();
  });
  scheduler.every({
    name: 'reconcile-tick',
    schedule: deps.reconcileEveryMinutes <= 1 ? '* * * * *' : `*/${deps.reconcileEveryMinutes} * * * *`,
    catchUpMs: 0,
    run: async () => {
      await scheduler.enqueue('engine.reconcile', {}, { jobKey: 'engine.reconcile', flags: [LEADER_FLAG], maxAttempts: 1 });
    },
  });

  // Yesterday's profit, after the 00:00 lock lifts and a few reconciliation passes have brought in what the stream missed.
  // The run itself catches up from the last settled day, and every start runs it, so a cluster down for a month misses nothing.
  scheduler.every({
    name: SETTLEMENT_JOB,
    schedule: '5 0 * * *',
    catchUpMs: 2 * DAY_MS,
    runAtStart: true,
    run: async ({ signal }) => ({ ...(await deps.billing.settlement.catchUp(signal)) }),
  });

  // The previous month's invoices on the 1st, after its last day was settled; every month missed since the last issued one
  // too, and every start runs it: a cluster down across a 1st for longer than the backfill does not wait a month to invoice.
  scheduler.every({
    name: INVOICE_JOB,
    schedule: '0 1 1 * *',
    catchUpMs: 3 * DAY_MS,
    runAtStart: true,
    run: async () => ({ months: (await deps.billing.issuer.issueDue()).map((r) => ({ month: r.month.toISOString(), issued: r.issued })) }),
  });

  // An invoice past due and unpaid: its owner is told once, within the hour (one run covers any missed).
  scheduler.every({
    name: 'invoice-overdue-notices',
    schedule: '20 * * * *',
    catchUpMs: 0,
    run: async () => deps.billing.overdue.run(),
  });
}

/** The daily settlement job: also run at every start, since the scheduler only backfills instants it knew of. */
export const SETTLEMENT_JOB = 'profit-settlement';
/** The monthly invoices: also run at every start, for the same reason. */
export const INVOICE_JOB = 'monthly-invoices';
export const KEY_REVERIFICATION_JOB = 'key-reverification';
