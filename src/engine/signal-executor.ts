import { randomUUID } from 'node:crypto';
import type { RiskService } from './risk/risk.service';
import type { MikroORM } from '@mikro-orm/postgresql';
import Decimal from 'decimal.js';
import type { Logger } from 'pino';
import { ExecutionReportRecord } from '../entities/execution-report.entity';
import { ExecutionStatus, OrderOrigin, OrderSide, OrderStatus, PositionSide, SignalAction } from '../entities/enums';
import { OWNER_FILTER, WITHOUT_OWNER } from '../entities/owner-filter';
import { Order } from '../entities/order.entity';
import { Position } from '../entities/position.entity';
import type { Signal } from '../entities/signal.entity';
import { UserExchangeConfig } from '../entities/user-exchange-config.entity';
import { UserExecution } from '../entities/user-execution.entity';
import type { EventBus } from '../realtime/event-bus';
import { Topic } from '../realtime/topics';
import { deriveClientOrderId } from './execution/client-order-id';
import { systemClock, type ExecutionClock } from './execution/execution-clock';
import { fanOut, type LateSettlement } from './execution/multi-user-executor';
import type { OrderPlacer, PlacementOutcome } from './execution/order-placement';
import { sizeCloseOrder, sizeOpenOrder } from './execution/sizing';
import { slippageRatio } from './execution/slippage';
import { AuthenticationError } from './exchange/exchange-errors';
import type { OrderResult } from './exchange/exchange-gateway';
import type { PriceSource } from './exchange/paper-gateway';
import { applyOrderResult } from './order-result';
import { toExecutionEvent, toOrderEvent, toPositionEvent, toReportEvent } from './engine-events';
import { FLAT_FIELDS, upsertPosition } from './position-upsert';
import type { Candidate, SignalRouter } from './signal-router';
import type { EngineMetrics } from './metrics-port';
import type { UserContext, UserContextCache } from './user-context';

export interface UserOutcome {
  userId: string;
  status: ExecutionStatus;
  reason: string | null;
  order: Order | null;
  fillPrice: string | null;
  slippage: string | null;
}

export interface ExecutionReport {
  signal: Signal;
  total: number;
  placed: number;
  skipped: number;
  failed: number;
  durationMs: number;
  results: UserExecution[];
}

export interface SignalExecutorOptions {
  concurrency: number;
  maxLagMs: number;
  /** Whole budget of one user's task; the placement deadline sits inside it. */
  userTimeoutMs: number;
}

const UNKNOWN_REASON = 'outcome unknown, reconciling';
type Em = ReturnType<MikroORM['em']['fork']>;

/**
 * Executes one signal on every selected account: one task per user on a
 * bounded pool, dispatch order rotated per signal, each task with its own
 * deadline, outcomes gathered with allSettled into one report.
 */
export class SignalExecutor {
  constructor(
    private readonly deps: {
      orm: MikroORM;
      bus: EventBus;
      router: SignalRouter;
      contexts: UserContextCache;
      placer: OrderPlacer;
      prices: PriceSource;
      risk: Pick<RiskService, 'check'>;
      logger: Logger;
      options: SignalExecutorOptions;
      clock?: ExecutionClock;
      metrics?: EngineMetrics;
    },
  ) {}

  private get clock(): ExecutionClock {
    return this.deps.clock ?? systemClock;
  }

  async execute(signal: Signal): Promise<ExecutionReport> {
    const started = Date.now();
    const { options } = this.deps;
    const routing = await this.deps.router.route(this.deps.orm.em.fork(), signal, new Date());
    const outcomes = new Map<string, UserOutcome & { rank: number | null; latencyMs: number }>();
    for (const skip of routing.skipped) {
      outcomes.set(skip.userId, { ...this.skip(skip.userId, skip.reason), rank: null, latencyMs: 0 });
    }

    // A timed-out task may settle before its row exists: held here and merged, then written again once persisted.
    const late = new Map<string, UserOutcome>();
    let persisted = false;
    // Orders this signal already made (a re-run): one query for everyone, not one per user.
    const priors = new Map(
      (await this.deps.orm.em.fork().find(Order, { signal: signal.id }, WITHOUT_OWNER)).map((o) => [o.user.id, o]),
    );
    const report = await fanOut(
      routing.eligible.map((candidate) => ({
        key: candidate.userId,
        run: ({ signal: abort }: { signal: AbortSignal }) => this.executeForUser(signal, candidate, abort, priors.get(candidate.userId)),
      })),
      {
        concurrency: options.concurrency,
        taskTimeoutMs: options.userTimeoutMs,
        rotation: signal.id,
        clock: this.clock,
        onLateSettle: (settled) => {
          const outcome = settled as LateSettlement<UserOutcome>;
          if (outcome.status !== 'fulfilled') return;
          if (persisted) void this.settleLate(signal, outcome.value);
          else late.set(outcome.key, outcome.value);
        },
      },
    );
    for (const r of report.results) {
      const base =
        r.status === 'fulfilled'
          ? r.value
          : r.status === 'timeout'
            ? { ...this.failed(r.key, UNKNOWN_REASON) }
            : this.failed(r.key, 'internal error while executing; see the server log');
      if (r.status === 'rejected') this.deps.logger.error({ userId: r.key, signalId: signal.id, err: r.error }, 'user task failed');
      outcomes.set(r.key, { ...base, rank: r.rank, latencyMs: Math.round(r.latencyMs) });
    }

    await this.linkPendingOrders(signal, outcomes);
    for (const [userId, outcome] of late) outcomes.set(userId, { ...outcomes.get(userId)!, ...outcome });
    const results = await this.persist(signal, [...outcomes.values()], Date.now() - started);
    persisted = true;
    for (const outcome of late.values()) void this.settleLate(signal, outcome);
    const summary: ExecutionReport = {
      signal,
      total: results.length,
      placed: results.filter((r) => r.status === ExecutionStatus.PLACED).length,
      skipped: results.filter((r) => r.status === ExecutionStatus.SKIPPED).length,
      failed: results.filter((r) => r.status === ExecutionStatus.FAILED).length,
      durationMs: Date.now() - started,
      results,
    };
    this.deps.metrics?.signalExecuted(summary);
    this.publish(summary);
    this.deps.logger.info(
      { signalId: signal.id, action: signal.action, total: summary.total, placed: summary.placed, skipped: summary.skipped, failed: summary.failed, durationMs: summary.durationMs },
      'signal executed',
    );
    return summary;
  }

  /** One user's whole path; never throws for a user-level problem (those are outcomes). */
  async executeForUser(signal: Signal, candidate: Candidate, abort: AbortSignal, known?: Order): Promise<UserOutcome> {
    const { userId } = candidate;
    const opening = signal.action !== SignalAction.CLOSE;
    const lateReason = this.lateReason(signal);
    if (lateReason) return this.skip(userId, lateReason);
    // Each write of this task is one statement: no BEGIN/COMMIT around it.
    const em = this.deps.orm.em.fork({ disableTransactions: true });
    em.setFilterParams(OWNER_FILTER, { userId });
    const ctx = await this.deps.contexts.get(candidate.config);
    const gateway = ctx.gateway;
    const price = signal.referencePrice ? new Decimal(signal.referencePrice) : this.deps.prices.latestPrice(signal.symbol);
    if (!price) return this.failed(userId, 'no market price to size the order with');
    const clientOrderId = deriveClientOrderId(gateway.clientOrderIdPrefix(), signal.id, userId);
    // A re-run of this signal (restart mid fan-out, operator retry) resumes the order it already made: sizing
    // again would meet that order's own position and report "already long" for an order this signal placed.
    if (known) return this.resume(em, signal, userId, ctx, em.merge(known), price, abort);

    let sizing;
    try {
      if (opening) {
        const direction = signal.action === SignalAction.OPEN_LONG ? PositionSide.LONG : PositionSide.SHORT;
        const position = candidate.position;
        const [account, filters] = await Promise.all([this.deps.contexts.account(ctx), gateway.getSymbolFilters(signal.symbol)]);
        if (position && position.side === direction) return this.skip(userId, `already ${direction.toLowerCase()} ${position.quantity} ${signal.symbol}`);
        if (position && position.side !== PositionSide.FLAT) {
          return this.skip(userId, `a ${position.side.toLowerCase()} position is open; it must be closed first`);
        }
        // The user's own risk check on the equity we are about to size from: a limit crossed now locks and skips.
        const verdict = await this.deps.risk.check(userId, candidate.risk, account.equity);
        if (verdict.locked) return this.skip(userId, `risk locked: ${verdict.reason}`);
        sizing = sizeOpenOrder({
          direction,
          equity: account.equity,
          maxPositionPct: ctx.maxPositionPct,
          strength: new Decimal(signal.strength),
          leverage: ctx.leverage,
          price,
          filters,
        });
      } else {
        // Exits size from the exchange's own figure, not ours.
        const live = await gateway.getPosition(signal.symbol);
        if (live.positionAmt.isZero()) {
          await this.flatten(em, userId, signal.symbol);
          return this.skip(userId, 'no open position on the exchange');
        }
        sizing = sizeCloseOrder({ positionAmt: live.positionAmt, price });
      }
    } catch (err) {
      // A key deleted on the exchange shows up here as often as at the order: same consequence.
      if (err instanceof AuthenticationError) await this.markKeyInvalid(em, userId, err.message);
      return this.fromError(userId, err);
    }
    if (sizing.kind === 'skip') return this.skip(userId, sizing.reason);

    const { order, inserted } = await this.pendingOrder(em, signal, userId, clientOrderId, sizing);
    // Another run made the row between our lookup and our insert: resume that one, never send a second time.
    if (!inserted) return this.resume(em, signal, userId, ctx, order, price, abort);
    return this.send(em, signal, userId, ctx, order, price, abort);
  }

  private async send(em: Em, signal: Signal, userId: string, ctx: UserContext, order: Order, price: Decimal, abort: AbortSignal): Promise<UserOutcome> {
    const request = {
      symbol: signal.symbol,
      side: order.side === OrderSide.BUY ? ('BUY' as const) : ('SELL' as const),
      quantity: new Decimal(order.quantity),
      clientOrderId: order.clientOrderId,
      reduceOnly: order.reduceOnly,
    };
    const deadline = this.clock.now() + Math.max(1000, this.deps.options.userTimeoutMs - 2000);
    const outcome = await this.deps.placer.place(ctx.gateway, request, deadline, abort);
    return this.record(em, userId, signal, order, outcome, price, ctx.leverage);
  }

  /**
   * The order this (signal, user) already has. A PENDING one may have reached
   * the exchange before a crash or a timeout: it is looked up by client id
   * before anything is sent again (DESIGN §4), and sent only once the exchange
   * provably never got it.
   */
  private async resume(em: Em, signal: Signal, userId: string, ctx: UserContext, order: Order, price: Decimal, abort: AbortSignal): Promise<UserOutcome> {
    if (order.status !== OrderStatus.PENDING) return this.fromStoredOrder(userId, order, price, signal);
    // Still being placed by this process (a task that outlived its timeout): join it rather than look it up.
    if (this.deps.placer.isInFlight(order.clientOrderId)) return this.send(em, signal, userId, ctx, order, price, abort);
    let found: OrderResult | null;
    try {
      found = await ctx.gateway.getOrder(signal.symbol, order.clientOrderId);
    } catch (err) {
      if (err instanceof AuthenticationError) await this.markKeyInvalid(em, userId, err.message);
      return this.failed(userId, UNKNOWN_REASON, order);
    }
    if (found) return this.record(em, userId, signal, order, { status: 'PLACED', order: found, adopted: true, sends: 0 }, price, ctx.leverage);
    // "Absent" proves nothing while an earlier send may still land: Binance honours a request until its recvWindow ends.
    if (Date.now() - order.createdAt.getTime() < this.deps.placer.absentAfterMs) return this.failed(userId, UNKNOWN_REASON, order);
    const lateReason = this.lateReason(signal);
    if (lateReason) {
      Object.assign(order, { status: OrderStatus.FAILED, error: lateReason, updatedAt: new Date() });
      await em.flush();
      return this.skip(userId, lateReason);
    }
    return this.send(em, signal, userId, ctx, order, price, abort);
  }

  /** An OPEN is not placed once it is older than the configured lag; an exit always is. */
  private lateReason(signal: Signal): string | null {
    const lag = Date.now() - signal.createdAt.getTime();
    if (signal.action === SignalAction.CLOSE || lag <= this.deps.options.maxLagMs) return null;
    return `signal is ${lag} ms old, over the ${this.deps.options.maxLagMs} ms limit: not placed late`;
  }

  private async pendingOrder(
    em: ReturnType<MikroORM['em']['fork']>,
    signal: Signal,
    userId: string,
    clientOrderId: string,
    sizing: { side: 'BUY' | 'SELL'; quantity: Decimal; reduceOnly: boolean },
  ): Promise<{ order: Order; inserted: boolean }> {
    // Inserted before sending; the unique client id means a re-run never creates a second order.
    const data = {
      id: randomUUID(),
      user: userId,
      signal: signal.id,
      clientOrderId,
      origin: signal.source === 'MANUAL' ? OrderOrigin.MANUAL : OrderOrigin.STRATEGY,
      symbol: signal.symbol,
      side: sizing.side === 'BUY' ? OrderSide.BUY : OrderSide.SELL,
      type: 'MARKET',
      quantity: sizing.quantity.toString(),
      avgPrice: null,
      executedQty: '0',
      reduceOnly: sizing.reduceOnly,
      status: OrderStatus.PENDING,
      exchangeOrderId: null,
      error: null,
      createdAt: new Date(),
      updatedAt: new Date(),
    };
    // Plain SQL: one statement per user on the fan-out's hot path, no query building.
    const rows = await em.execute<Array<{ id: string }>>(
      'insert into orders (id, user_id, signal_id, client_order_id, origin, symbol, side, type, quantity, executed_qty, reduce_only, status, created_at, updated_at) ' +
        'values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict (client_order_id) do nothing returning id',
      [data.id, userId, signal.id, clientOrderId, data.origin, data.symbol, data.side, data.type, data.quantity, data.executedQty, data.reduceOnly, data.status, data.createdAt, data.updatedAt],
    );
    if (rows.length === 1) return { order: em.create(Order, data, { managed: true }), inserted: true };
    return { order: await em.findOneOrFail(Order, { clientOrderId }), inserted: false };
  }

  private async record(
    em: ReturnType<MikroORM['em']['fork']>,
    userId: string,
    signal: Signal,
    order: Order,
    outcome: PlacementOutcome,
    reference: Decimal,
    leverage: number,
  ): Promise<UserOutcome> {
    if (outcome.status === 'UNKNOWN') {
      order.error = UNKNOWN_REASON;
      await em.flush();
      this.deps.bus.publishToUser(Topic.ORDER_UPDATED, userId, toOrderEvent(order));
      return this.failed(userId, UNKNOWN_REASON, order);
    }
    if (outcome.status === 'FAILED') {
      if (outcome.order) applyOrderResult(order, outcome.order);
      if (!outcome.order || outcome.order.executedQty.isZero()) order.status = outcome.order ? order.status : OrderStatus.FAILED;
      order.error = outcome.reason;
      if (outcome.errorKind === 'authentication') await this.markKeyInvalid(em, userId, outcome.reason);
      await em.flush();
      this.deps.bus.publishToUser(Topic.ORDER_UPDATED, userId, toOrderEvent(order));
      return this.failed(userId, outcome.reason, order);
    }
    applyOrderResult(order, outcome.order);
    order.error = null;
    // Two independent statements, sent together: the fill on the order row and our position view.
    const [position] = await Promise.all([this.applyFill(em, userId, signal, outcome.order, leverage), this.saveOrder(em, order)]);
    this.deps.bus.publishToUser(Topic.ORDER_UPDATED, userId, toOrderEvent(order));
    if (position) this.deps.bus.publishToUser(Topic.POSITION_UPDATED, userId, toPositionEvent(position));
    return this.fromStoredOrder(userId, order, reference, signal);
  }

  /** The fill's figures on the order row: one UPDATE, without the unit of work's change-set pass on the hot path. */
  private async saveOrder(em: Em, order: Order): Promise<void> {
    await em.execute(
      'update orders set status = ?, exchange_order_id = ?, executed_qty = ?, avg_price = ?, error = ?, updated_at = ? where id = ? and user_id = ?',
      [order.status, order.exchangeOrderId, order.executedQty, order.avgPrice, order.error, order.updatedAt, order.id, order.user.id],
    );
  }

  /** Our position view after a fill; the user-data stream and the reconciler refine it. */
  private async applyFill(em: ReturnType<MikroORM['em']['fork']>, userId: string, signal: Signal, fill: OrderResult, leverage: number): Promise<Position | null> {
    if (fill.executedQty.isZero()) return null;
    // Set, not added: OPEN only proceeds from flat and CLOSE sizes from the exchange's own figure,
    // so this stays right whether the user-data stream got here first or not.
    if (fill.reduceOnly || signal.action === SignalAction.CLOSE) return upsertPosition(em, userId, signal.symbol, FLAT_FIELDS);
    const avg = (fill.avgPrice ?? new Decimal(0)).toString();
    return upsertPosition(em, userId, signal.symbol, {
      side: fill.side === 'BUY' ? PositionSide.LONG : PositionSide.SHORT,
      quantity: fill.executedQty.toString(),
      entryPrice: avg,
      markPrice: avg,
      leverage,
      openedByStrategy: true,
    });
  }

  private async flatten(em: ReturnType<MikroORM['em']['fork']>, userId: string, symbol: string): Promise<void> {
    const position = await em.findOne(Position, { user: userId, symbol });
    if (!position || position.side === PositionSide.FLAT) return;
    const flat = await upsertPosition(em, userId, symbol, FLAT_FIELDS);
    this.deps.bus.publishToUser(Topic.POSITION_UPDATED, userId, toPositionEvent(flat));
  }

  private async markKeyInvalid(em: ReturnType<MikroORM['em']['fork']>, userId: string, reason: string): Promise<void> {
    const config = await em.findOne(UserExchangeConfig, { user: userId });
    if (!config) return;
    config.isValid = false;
    config.lastVerifyError = reason;
    await em.flush();
    this.deps.contexts.invalidate(userId);
  }

  private fromStoredOrder(userId: string, order: Order, reference: Decimal, signal: Signal): UserOutcome {
    if (order.status === OrderStatus.FAILED || order.status === OrderStatus.REJECTED || order.status === OrderStatus.EXPIRED) {
      return this.failed(userId, order.error ?? `order ${order.status.toLowerCase()}`, order);
    }
    const fill = order.avgPrice ? new Decimal(order.avgPrice) : null;
    return {
      userId,
      status: ExecutionStatus.PLACED,
      reason: signal.action === SignalAction.CLOSE ? 'position closed' : null,
      order,
      fillPrice: fill ? fill.toString() : null,
      slippage: fill && !fill.isZero() ? slippageRatio(order.side, fill, reference).toDecimalPlaces(10).toString() : null,
    };
  }

  private fromError(userId: string, err: unknown): UserOutcome {
    const message = err instanceof Error && 'action' in err ? err.message : 'internal error while executing; see the server log';
    if (!(err instanceof Error && 'action' in err)) this.deps.logger.error({ userId, err }, 'unexpected error before placing');
    return this.failed(userId, message);
  }

  private skip(userId: string, reason: string): UserOutcome {
    return { userId, status: ExecutionStatus.SKIPPED, reason, order: null, fillPrice: null, slippage: null };
  }

  private failed(userId: string, reason: string, order: Order | null = null): UserOutcome {
    return { userId, status: ExecutionStatus.FAILED, reason, order, fillPrice: null, slippage: null };
  }

  /** All rows and the summary in one transaction: N users cost one insert, not N. */
  private async persist(
    signal: Signal,
    outcomes: Array<UserOutcome & { rank: number | null; latencyMs: number }>,
    durationMs: number,
  ): Promise<UserExecution[]> {
    const em = this.deps.orm.em.fork();
    const rows = await em.transactional(async (tx) => {
      // A re-run of the same signal (restart, retry) replaces these users' rows instead of hitting the unique (signal, user).
      await tx.nativeDelete(UserExecution, { signal: signal.id, user: { $in: outcomes.map((o) => o.userId) } }, WITHOUT_OWNER);
      await tx.nativeDelete(ExecutionReportRecord, { signal: signal.id });
      const createdAt = new Date();
      const data = outcomes.map((o) => ({
        id: randomUUID(),
        signal: signal.id,
        user: o.userId,
        status: o.status,
        reason: o.reason,
        order: o.order?.id ?? null,
        dispatchRank: o.rank,
        latencyMs: o.latencyMs,
        fillPrice: o.fillPrice,
        slippage: o.slippage,
        createdAt,
      }));
      // One multi-row INSERT outside the unit of work: at 1,000 users the change-set pass alone costs more than the insert.
      if (data.length > 0) await tx.insertMany(UserExecution, data);
      const created = data.map(
        (row, i) =>
          ({ ...row, signal, user: { id: row.user }, order: outcomes[i].order }) as unknown as UserExecution,
      );
      const counts = { placed: 0, skipped: 0, failed: 0 };
      for (const o of outcomes) counts[o.status.toLowerCase() as 'placed' | 'skipped' | 'failed'] += 1;
      tx.create(ExecutionReportRecord, { signal: signal.id, total: outcomes.length, ...counts, durationMs, createdAt: new Date() }, { persist: true });
      return created;
    });
    // The response and the events carry the order rows as the tasks left them.
    return rows;
  }

  /**
   * A user whose task timed out may have an order in flight: their row points at it, so the reconciler
   * (which settles rows by order) and the user can tell "unknown" from "never sent".
   */
  private async linkPendingOrders(signal: Signal, outcomes: Map<string, UserOutcome>): Promise<void> {
    const unknown = [...outcomes.values()].filter((o) => o.status === ExecutionStatus.FAILED && o.order === null && o.reason === UNKNOWN_REASON);
    if (unknown.length === 0) return;
    const orders = await this.deps.orm.em.fork().find(
      Order,
      { signal: signal.id, user: { $in: unknown.map((o) => o.userId) } },
      { filters: { [OWNER_FILTER]: false } },
    );
    for (const order of orders) outcomes.get(order.user.id)!.order = order;
  }

  /** A task that outlived its timeout finished after all: its real outcome replaces "unknown". */
  private async settleLate(signal: Signal, outcome: UserOutcome): Promise<void> {
    try {
      const em = this.deps.orm.em.fork();
      await em.nativeUpdate(
        UserExecution,
        { signal: signal.id, user: outcome.userId },
        { status: outcome.status, reason: outcome.reason, order: outcome.order?.id ?? null, fillPrice: outcome.fillPrice, slippage: outcome.slippage },
        { filters: { [OWNER_FILTER]: false } },
      );
    } catch (err) {
      this.deps.logger.error({ err, userId: outcome.userId, signalId: signal.id }, 'recording a late outcome failed');
    }
  }

  private publish(report: ExecutionReport): void {
    for (const row of report.results) this.deps.bus.publishToUser(Topic.EXECUTION_RESULT, row.user.id, toExecutionEvent(row));
    this.deps.bus.publish(Topic.EXECUTION_REPORTS, toReportEvent(report));
  }
}
