import { randomUUID } from 'node:crypto';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import Decimal from 'decimal.js';
import type { Logger } from 'pino';
import type { Order } from '../../entities/order.entity';
import { OWNER_FILTER } from '../../entities/owner-filter';
import type { Signal } from '../../entities/signal.entity';
import type { UserExecution } from '../../entities/user-execution.entity';
import type { EngineEvents, ExecutionReport, LedgerEvent } from '../engine-events';
import type {
  AccountSnapshot, AccountUpdateEvent, IncomeRecord, OrderResult, OrderUpdateEvent, PositionSnapshot, TradeFill,
} from '../exchange/exchange-gateway';
import type { AuditTrail } from '../ports';
import { BalanceLedger } from './balance-ledger';
import type { ConversionRates } from './conversion-rates';
import { ExecutionLedger, type ExecutionOutcome } from './execution-ledger';
import { FillLedger, type ValuedFill } from './fill-ledger';
import { accountUpdateMovements, incomeMovement } from './movement-facts';
import { MovementLedger } from './movement-ledger';
import { Journal, type JournaledEvent } from './journal';
import { isNewer, applyOrderResult } from './order-result';
import { OrderLedger, orderUpdateSql, orderUpdateValues, type OrderIntent } from './order-ledger';
import { PositionLedger } from './position-ledger';
import { positionUpsertSql, toPosition, type PositionRow } from './position-upsert';
import { SyncCursors, type HistoryRead } from './sync-cursors';

export type { OrderIntent, ExecutionOutcome, HistoryRead, JournaledEvent };

/** What our own fill did to the position, for the order's statement. */
export interface OwnFillContext {
  opening: boolean;
  leverage: number;
  /** The exchange's signed position before an exit (what the exit was sized from). */
  positionBefore: Decimal | null;
  /** Or, for an exit resumed later, the position the exchange shows after it. */
  positionAfter?: Decimal | null;
  /** The account lease this task holds, let go of in the same statement (its last order). */
  releaseLease?: string;
}

/**
 * The only writer of orders, positions, trades, user_executions,
 * balance_snapshots and account_movements. Whatever the source (our own
 * placement, the user-data stream, the reconciler's REST pass), a fact enters
 * through one method per kind, idempotently, in one transaction (or one
 * statement) with its consequences; the domain events are emitted after the
 * commit.
 */
export class Ledger {
  private readonly orders = new OrderLedger();
  private readonly movements = new MovementLedger();
  private readonly fills = new FillLedger(this.movements);
  private readonly positions: PositionLedger;
  private readonly balances = new BalanceLedger();
  private readonly executions = new ExecutionLedger();
  private readonly cursors = new SyncCursors();
  private readonly journal = new Journal();

  constructor(
    private readonly deps: { orm: MikroORM; events: EngineEvents; audit: AuditTrail; conversions: ConversionRates; logger: Logger },
  ) {
    this.positions = new PositionLedger(deps.audit);
  }

  /** A unit of work scoped to one user; statements run without BEGIN/COMMIT unless a method opens a transaction. */
  userEm(userId: string): EntityManager {
    const em = this.deps.orm.em.fork({ disableTransactions: false });
    em.setFilterParams(OWNER_FILTER, { userId });
    return em;
  }

  // ---- the engine's own orders ----

  /** The intent row, before anything is sent (hot path: one statement). */
  openOrder(em: EntityManager, intent: OrderIntent): Promise<{ order: Order; inserted: boolean }> {
    return this.orders.open(em, intent);
  }

  /**
   * The exchange's answer to our order, and the position it implies, in one
   * statement (hot path). The stream and the reconciler refine the position later.
   */
  async recordPlacement(em: EntityManager, order: Order, result: OrderResult, fill: OwnFillContext): Promise<void> {
    const userId = order.user.id;
    const fresh = isNewer(order, result);
    if (fresh) applyOrderResult(order, result);
    order.error = null;
    if (result.executedQty.isZero()) {
      if (fresh) await em.execute(orderUpdateSql(), orderUpdateValues(order, result, null));
      this.emit([{ type: 'OrderChanged', userId, order }]);
      return;
    }
    const fields = this.positions.afterOwnFill({
      opening: fill.opening, side: result.side, executedQty: result.executedQty, avgPrice: result.avgPrice, leverage: fill.leverage,
      positionBefore: fill.positionBefore, positionAfter: fill.positionAfter ?? null,
    });
    const position = positionUpsertSql(fields, 'o', fill.releaseLease);
    // One round trip and atomic: the fill on the order row, then our position view.
    const [row] = await em.execute<PositionRow[]>(`with o as (${orderUpdateSql()} returning id) ${position.sql}`, [
      ...orderUpdateValues(order, result, null), randomUUID(), userId, result.symbol, ...position.values,
    ]);
    this.emit([{ type: 'OrderChanged', userId, order }, { type: 'PositionChanged', userId, position: toPosition(userId, row) }]);
  }

  /** The exchange holds the order but nothing filled, or never got it: the order ends failed (with its reason). */
  async recordPlacementFailure(em: EntityManager, order: Order, reason: string, result: OrderResult | null): Promise<void> {
    if (result) await this.orders.applyResult(em, order, result, reason);
    else await this.orders.markFailed(em, order, reason);
    this.emit([{ type: 'OrderChanged', userId: order.user.id, order }]);
  }

  async recordUnknown(em: EntityManager, order: Order, reason: string): Promise<void> {
    await this.orders.markUnknown(em, order, reason);
    this.emit([{ type: 'OrderChanged', userId: order.user.id, order }]);
  }

  /** Ends an order's "outcome unknown" life (reconciler, resumed task): the order and the signal outcome it left. */
  async settleOrder(userId: string, order: Order, result: OrderResult | null, absentReason: string): Promise<Order> {
    const em = this.userEm(userId);
    const row = em.merge(order);
    await em.transactional((tx) => this.orders.settle(tx, row, result, absentReason));
    this.emit([{ type: 'OrderChanged', userId, order: row }]);
    return row;
  }

  openOrders(userId: string): Promise<Order[]> {
    return this.orders.openOrders(this.userEm(userId), userId);
  }

  async flatten(em: EntityManager, userId: string, symbol: string): Promise<void> {
    const position = await this.positions.flatten(em, userId, symbol);
    if (position) this.emit([{ type: 'PositionChanged', userId, position }]);
  }

  /** One signal at a time per account (see PositionLedger.reserve): the position read under the lease, or null while another holds it. */
  reserveAccount(em: EntityManager, userId: string, symbol: string, holder: string, ttlMs: number) {
    return this.positions.reserve(em, userId, symbol, holder, ttlMs);
  }

  releaseAccount(em: EntityManager, userId: string, symbol: string, holder: string): Promise<void> {
    return this.positions.release(em, userId, symbol, holder);
  }

  claimForStrategy(userId: string, symbol: string): Promise<void> {
    return this.positions.claimForStrategy(this.userEm(userId), userId, symbol);
  }

  // ---- what the exchange reports ----

  /** ORDER_TRADE_UPDATE: the order (ours or external) and, for a trade, the fill. */
  async recordOrderUpdate(userId: string, event: OrderUpdateEvent): Promise<void> {
    const fills = event.fill ? await this.value([event.fill]) : [];
    const em = this.userEm(userId);
    const events = await em.transactional(async (tx) => {
      const { order, changed } = await this.orders.upsertReported(tx, userId, event.order, event.isLiquidation ? 'liquidation by the exchange' : null);
      const out: LedgerEvent[] = await this.fills.record(tx, userId, fills, 'STREAM');
      if (changed) out.unshift({ type: 'OrderChanged', userId, order });
      await this.journal.append(tx, out);
      return out;
    });
    this.emit(events);
  }

  /**
   * Fills found on the exchange (the reconciler's userTrades); returns how many were new.
   * With `read`, the history's cursor moves to what the read covered, in the same transaction.
   */
  async recordFills(userId: string, fills: TradeFill[], read?: HistoryRead): Promise<number> {
    if (fills.length === 0 && !read) return 0;
    const valued = await this.value(fills);
    const events = await this.userEm(userId).transactional(async (tx) => {
      const out = await this.fills.record(tx, userId, valued, 'RECONCILE');
      await this.journal.append(tx, out);
      if (read) await this.cursors.advance(tx, userId, read);
      return out;
    });
    this.emit(events);
    return events.filter((e) => e.type === 'FillRecorded').length;
  }

  /** ACCOUNT_UPDATE: positions, the money that moved (deposit, withdrawal, funding…), and the balance it left. */
  async recordAccountUpdate(userId: string, event: AccountUpdateEvent): Promise<void> {
    const changes = await Promise.all(
      event.balanceChanges.map(async (c) => ({ ...c, usdtValue: await this.deps.conversions.usdtValue(c.asset, c.change, event.eventTime) })),
    );
    const symbol = event.positions.length === 1 ? event.positions[0].symbol : null;
    const facts = accountUpdateMovements(event.reason, event.eventTime, changes, symbol);
    const em = this.userEm(userId);
    const events = await em.transactional(async (tx) => {
      const out: LedgerEvent[] = (await this.positions.applySnapshots(tx, userId, event.positions, 'STREAM')).map((position) => ({
        type: 'PositionChanged' as const, userId, position,
      }));
      out.push(...(await this.movements.record(tx, userId, facts)));
      if (event.walletBalance) {
        const unrealizedPnl = event.positions.reduce((sum, p) => sum.plus(p.unrealizedPnl), new Decimal(0));
        const equity = event.walletBalance.plus(unrealizedPnl);
        const last = await this.balances.latest(tx, userId);
        const account = { equity, walletBalance: event.walletBalance, unrealizedPnl, availableBalance: new Decimal(last?.availableBalance ?? equity) };
        await this.balances.record(tx, userId, account, 'STREAM', event.eventTime);
        out.push({ type: 'BalanceChanged', userId, equity, walletBalance: event.walletBalance, unrealizedPnl, at: event.eventTime, source: 'STREAM' });
      }
      await this.journal.append(tx, out);
      return out;
    });
    this.emit(events);
  }

  async recordPositions(userId: string, snapshots: PositionSnapshot[], source: 'STREAM' | 'RECONCILE'): Promise<void> {
    const em = this.userEm(userId);
    const changed = await em.transactional(async (tx) => {
      const positions = await this.positions.applySnapshots(tx, userId, snapshots, source);
      await tx.flush();
      return positions;
    });
    this.emit(changed.map((position) => ({ type: 'PositionChanged', userId, position })));
  }

  async recordBalance(userId: string, account: AccountSnapshot, source: 'SIGNAL' | 'RECONCILE', at = new Date()): Promise<void> {
    const event: LedgerEvent = {
      type: 'BalanceChanged', userId, equity: account.equity, walletBalance: account.walletBalance, unrealizedPnl: account.unrealizedPnl, at, source,
    };
    // An unchanged balance the reconciler reads again is not stored, nor journaled (no transaction for nothing):
    // judging it is only a day-boundary check.
    if (this.balances.due(userId, account, source, at)) {
      await this.userEm(userId).transactional(async (tx) => {
        await this.balances.record(tx, userId, account, source, at);
        await this.journal.append(tx, [event]);
      });
    }
    this.emit([event]);
  }

  /**
   * The income history (the reconciler's fallback for movements the stream missed); returns how many were new.
   * With `read`, the history's cursor moves to what the read covered, in the same transaction.
   */
  async recordIncome(userId: string, incomes: IncomeRecord[], read?: HistoryRead): Promise<number> {
    if (incomes.length === 0 && !read) return 0;
    const facts = await Promise.all(
      incomes.map(async (i) => incomeMovement(i, await this.deps.conversions.usdtValue(i.asset, i.income, i.time))),
    );
    const events = await this.userEm(userId).transactional(async (tx) => {
      const out = await this.movements.record(tx, userId, facts);
      await this.journal.append(tx, out);
      if (read) await this.cursors.advance(tx, userId, read);
      return out;
    });
    this.emit(events);
    return events.length;
  }

  /**
   * How far the reconciler has read one of the user's exchange histories (null: never).
   * Not the newest stored row: the stream stores fresh ones the moment it reconnects.
   */
  syncedThrough(userId: string, feed: string): Promise<Date | null> {
    return this.cursors.syncedThrough(this.userEm(userId), userId, feed);
  }

  /** Movements stored before their asset could be priced get their USDT value once it can be. */
  async revalueMovements(userId: string): Promise<number> {
    const em = this.userEm(userId);
    let valued = 0;
    for (const row of await this.movements.unvalued(em, userId)) {
      const value = await this.deps.conversions.usdtValue(row.asset, new Decimal(row.amount), new Date(row.occurred_at));
      if (!value) continue;
      await this.movements.setUsdtValue(em, userId, row.id, value);
      valued += 1;
    }
    return valued;
  }

  // ---- the journal risk judges from ----

  /** In risk's judging transaction: true the first time this event is judged, false when it already was. */
  claimJudgement(tx: EntityManager, seq: string): Promise<boolean> {
    return this.journal.claim(tx, seq);
  }

  /** Journaled events no judgement has claimed (lost to a crash or an outage), journaled before `before`, oldest first. */
  unjudgedEvents(before: Date, limit = 500, afterSeq?: string): Promise<JournaledEvent[]> {
    return this.journal.unjudged(this.deps.orm.em.fork(), before, limit, afterSeq);
  }

  pruneJournal(judgedBefore: Date): Promise<number> {
    return this.journal.prune(this.deps.orm.em.fork(), judgedBefore);
  }

  // ---- signal outcomes ----

  async persistExecutions(signal: Signal, outcomes: ExecutionOutcome[], durationMs: number): Promise<ExecutionReport> {
    const results: UserExecution[] = await this.executions.persist(this.deps.orm.em.fork(), signal, outcomes, durationMs);
    const count = (status: string) => results.filter((r) => r.status === status).length;
    const report: ExecutionReport = {
      signal, total: results.length, placed: count('PLACED'), skipped: count('SKIPPED'), failed: count('FAILED'), durationMs, results,
    };
    this.emit([{ type: 'ExecutionReported', report }]);
    return report;
  }

  async settleLateExecution(signal: Signal, outcome: Omit<ExecutionOutcome, 'rank' | 'latencyMs'>): Promise<void> {
    try {
      await this.executions.settleLate(this.deps.orm.em.fork(), signal, outcome);
    } catch (err) {
      this.deps.logger.error({ err, userId: outcome.userId, signalId: signal.id }, 'recording a late outcome failed');
    }
  }

  /** Commission in another asset (BNB) is valued in USDT at the trade's time before the fill is stored. */
  private value(fills: TradeFill[]): Promise<ValuedFill[]> {
    return Promise.all(
      fills.map(async (f) => ({
        ...f,
        commissionUsdt: f.commission.isZero() ? new Decimal(0) : await this.deps.conversions.usdtValue(f.commissionAsset, f.commission, f.time),
      })),
    );
  }

  private emit(events: LedgerEvent[]): void {
    for (const event of events) this.deps.events.emit(event);
  }
}
