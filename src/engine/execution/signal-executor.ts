import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { ExecutionStatus, SignalAction } from '../../entities/enums';
import { Order } from '../../entities/order.entity';
import { WITHOUT_OWNER } from '../../entities/owner-filter';
import type { Signal } from '../../entities/signal.entity';
import type { ExecutionReport } from '../engine-events';
import { withTrafficClass } from '../exchange/traffic-class';
import type { Ledger } from '../ledger/ledger';
import type { EngineMetrics } from '../metrics-port';
import type { ExecutionOutcome } from '../ledger/execution-ledger';
import { systemWallClock, type Clock } from '../ports';
import type { SignalRouter } from '../routing/signal-router';
import type { ExecutionClock } from './execution-clock';
import { fanOut, type LateSettlement } from './multi-user-executor';
import { failed, skipped, unknownOutcome, type UserOutcome } from './user-outcome';
import { UserTask, type UserTaskDeps } from './user-task';

export interface SignalExecutorOptions {
  concurrency: number;
  maxLagMs: number;
  /** Whole budget of one user's task; the placement deadline sits inside it. */
  userTimeoutMs: number;
}

/**
 * Executes one signal on every selected account: one task per user on a
 * bounded pool, dispatch order rotated per signal, each task with its own
 * deadline, outcomes gathered with allSettled into one report (stored by the
 * ledger, which announces it).
 */
export class SignalExecutor {
  constructor(
    private readonly deps: Omit<UserTaskDeps, 'clock' | 'options'> & {
      orm: MikroORM;
      router: SignalRouter;
      logger: Logger;
      options: SignalExecutorOptions;
      /** Every time read of the fan-out and its tasks (deadlines, latencies, a signal's age); the placer's clock too. */
      clock: ExecutionClock;
      /** Business time for routing (trial ends, invoices falling due); tests move it. */
      wallClock?: Clock;
      metrics?: Pick<EngineMetrics, 'signalExecuted'>;
    },
  ) {}

  private get clock(): ExecutionClock {
    return this.deps.clock;
  }

  async execute(signal: Signal): Promise<ExecutionReport> {
    const started = this.clock.now();
    const { options, ledger } = this.deps;
    const routing = await this.deps.router.route(this.deps.orm.em.fork(), signal, (this.deps.wallClock ?? systemWallClock).now());
    const outcomes = new Map<string, ExecutionOutcome>();
    for (const skip of routing.skipped) outcomes.set(skip.userId, { ...skipped(skip.userId, skip.reason), rank: null, latencyMs: 0 });

    // A timed-out task may settle before its row exists: held here and merged, then written again once persisted.
    const late = new Map<string, UserOutcome>();
    let persisted = false;
    // Orders this signal already made (a re-run): one query for everyone, not one per user.
    const priors = new Map<string, Order[]>();
    for (const order of await this.deps.orm.em.fork().find(Order, { signal: signal.id }, WITHOUT_OWNER)) {
      priors.set(order.user.id, [...(priors.get(order.user.id) ?? []), order]);
    }
    const taskDeps: UserTaskDeps = { ...this.deps, clock: this.clock, options };
    // Every exchange call under this fan-out may spend the trading reserve of the IP's weight budget.
    const report = await withTrafficClass('execution', () => fanOut(
      routing.eligible.map((candidate) => ({
        key: candidate.userId,
        run: ({ signal: abort }: { signal: AbortSignal }) => new UserTask(taskDeps, signal, candidate, abort, priors.get(candidate.userId) ?? []).run(),
      })),
      {
        concurrency: options.concurrency,
        taskTimeoutMs: options.userTimeoutMs,
        rotation: signal.id,
        clock: this.clock,
        onLateSettle: (settled) => {
          const outcome = settled as LateSettlement<UserOutcome>;
          if (outcome.status !== 'fulfilled') return;
          if (persisted) void ledger.settleLateExecution(signal, outcome.value);
          else late.set(outcome.key, outcome.value);
        },
      },
    ));
    for (const r of report.results) {
      const base =
        r.status === 'fulfilled'
          ? r.value
          : r.status === 'timeout'
            ? unknownOutcome(r.key)
            : failed(r.key, 'internal error while executing; see the server log');
      if (r.status === 'rejected') this.deps.logger.error({ userId: r.key, signalId: signal.id, err: r.error }, 'user task failed');
      outcomes.set(r.key, { ...base, rank: r.rank, latencyMs: Math.round(r.latencyMs) });
    }

    await this.linkUnknownOrders(signal, outcomes);
    for (const [userId, outcome] of late) outcomes.set(userId, { ...outcomes.get(userId)!, ...outcome });
    const summary = await ledger.persistExecutions(signal, [...outcomes.values()], Math.round(this.clock.now() - started));
    persisted = true;
    // Counted here, on the node that executed it: once per cluster.
    this.deps.metrics?.signalExecuted(summary);
    for (const outcome of late.values()) void ledger.settleLateExecution(signal, outcome);
    this.deps.logger.info(
      { signalId: signal.id, action: signal.action, total: summary.total, placed: summary.placed, skipped: summary.skipped, failed: summary.failed, durationMs: summary.durationMs },
      'signal executed',
    );
    return summary;
  }

  /**
   * A user whose task timed out may have an order in flight: their row points at it, so the reconciler
   * (which settles rows by order) and the user can tell "unknown" from "never sent".
   */
  private async linkUnknownOrders(signal: Signal, outcomes: Map<string, ExecutionOutcome>): Promise<void> {
    const unlinked = [...outcomes.values()].filter((o) => o.status === ExecutionStatus.FAILED && o.unknown && o.order === null);
    if (unlinked.length === 0) return;
    const orders = await this.deps.orm.em.fork().find(Order, { signal: signal.id, user: { $in: unlinked.map((o) => o.userId) } }, WITHOUT_OWNER);
    for (const order of orders) {
      const outcome = outcomes.get(order.user.id)!;
      // An OPEN's outcome is about its opening order, not the exit of a leftover it may have sent first.
      if (!outcome.order || (signal.action !== SignalAction.CLOSE && !order.reduceOnly)) outcome.order = order;
    }
  }
}
