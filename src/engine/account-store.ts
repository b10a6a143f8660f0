import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import Decimal from 'decimal.js';
import type { Logger } from 'pino';
import { BalanceSnapshot } from '../entities/balance-snapshot.entity';
import { OrderOrigin, OrderSide, OrderStatus, PositionSide } from '../entities/enums';
import { Order } from '../entities/order.entity';
import { OWNER_FILTER } from '../entities/owner-filter';
import { Position } from '../entities/position.entity';
import { Trade } from '../entities/trade.entity';
import type { AuditService } from '../services/audit.service';
import type { RiskService } from './risk/risk.service';
import type { EventBus } from '../realtime/event-bus';
import { Topic } from '../realtime/topics';
import { toOrderEvent, toPositionEvent } from './engine-events';
import { applyOrderResult, FINAL_ORDER_STATUSES } from './order-result';
import { upsertPosition } from './position-upsert';
import type { AccountSnapshot, OrderResult, OrderUpdateEvent, PositionSnapshot, TradeFill } from './exchange/exchange-gateway';


/**
 * Writes what the exchange tells us (user-data stream, reconciler) into our
 * orders, trades, positions and balance snapshots, idempotently: the same
 * fill seen by the stream and by the reconciler is stored once.
 */
export class AccountStore {
  constructor(private readonly deps: { orm: MikroORM; bus: EventBus; audit: AuditService; risk: RiskService; logger: Logger }) {}

  private em(userId: string): EntityManager {
    const em = this.deps.orm.em.fork();
    em.setFilterParams(OWNER_FILTER, { userId });
    return em;
  }

  async applyOrderUpdate(userId: string, event: OrderUpdateEvent): Promise<void> {
    const em = this.em(userId);
    const order = await this.upsertOrder(em, userId, event.order, event.isLiquidation ? 'liquidation by the exchange' : null);
    const closes = event.fill ? await this.insertTrades(em, userId, [event.fill], order) : [];
    await em.flush();
    await this.deps.risk.recordCloses(userId, closes);
    this.deps.bus.publishToUser(Topic.ORDER_UPDATED, userId, toOrderEvent(order));
  }

  /** Positions as the exchange reports them; only engine fills mark a position as the strategy's. */
  async applyPositions(userId: string, snapshots: PositionSnapshot[], source: 'STREAM' | 'RECONCILE'): Promise<void> {
    const em = this.em(userId);
    const changed: Position[] = [];
    for (const snap of snapshots) {
      const current = await em.findOne(Position, { user: userId, symbol: snap.symbol });
      const side = snap.positionAmt.isZero() ? PositionSide.FLAT : snap.positionAmt.gt(0) ? PositionSide.LONG : PositionSide.SHORT;
      const quantity = snap.positionAmt.abs();
      if (!current && side === PositionSide.FLAT) continue;
      const before = current ? `${current.side}:${new Decimal(current.quantity).toString()}` : `${PositionSide.FLAT}:0`;
      const after = `${side}:${quantity.toString()}`;
      if (before !== after && source === 'RECONCILE') {
        // Something happened while we were not looking: a fill, a liquidation or a manual trade.
        this.deps.audit.record(em, { action: 'reconcile.position_changed', userId, detail: `${snap.symbol} ours ${before}, exchange ${after}` });
      }
      const flipped = current !== null && current.side !== PositionSide.FLAT && side !== PositionSide.FLAT && current.side !== side;
      const position = await upsertPosition(em, userId, snap.symbol, {
        side,
        quantity: quantity.toString(),
        entryPrice: side === PositionSide.FLAT ? '0' : snap.entryPrice.toString(),
        markPrice: snap.markPrice ? snap.markPrice.toString() : undefined,
        unrealizedPnl: side === PositionSide.FLAT ? '0' : snap.unrealizedPnl.toString(),
        leverage: snap.leverage ?? undefined,
        ...(side === PositionSide.FLAT || flipped ? { openedByStrategy: false } : {}),
      });
      if (before !== after) changed.push(position);
    }
    await em.flush();
    for (const p of changed) this.deps.bus.publishToUser(Topic.POSITION_UPDATED, userId, toPositionEvent(p));
  }

  /** The open position on this symbol was opened by the engine: CLOSE signals will reach it. */
  async claimForStrategy(userId: string, symbol: string): Promise<void> {
    await this.em(userId).nativeUpdate(Position, { user: userId, symbol, side: { $ne: PositionSide.FLAT } }, { openedByStrategy: true });
  }

  /** Fills found on the exchange; linked to our order when we know its exchange id. */
  async recordTrades(userId: string, fills: TradeFill[]): Promise<number> {
    if (fills.length === 0) return 0;
    const em = this.em(userId);
    const inserted = await this.insertTrades(em, userId, fills, null);
    await em.flush();
    await this.deps.risk.recordCloses(userId, inserted);
    return inserted.length;
  }

  /** Settles an order we hold as not final with what the exchange says about it (or that it has none). */
  async settleOrder(userId: string, order: Order, result: OrderResult | null, reason: string): Promise<Order> {
    const em = this.em(userId);
    const row = em.merge(order);
    if (result) {
      applyOrderResult(row, result);
      row.error = null;
    } else {
      row.status = OrderStatus.FAILED;
      row.error = reason;
    }
    await em.flush();
    this.deps.bus.publishToUser(Topic.ORDER_UPDATED, userId, toOrderEvent(row));
    return row;
  }

  async snapshotBalance(userId: string, account: AccountSnapshot, source: 'SIGNAL' | 'STREAM' | 'RECONCILE' | 'DAILY'): Promise<void> {
    const em = this.em(userId);
    em.create(BalanceSnapshot, {
      user: userId,
      equity: account.equity.toString(),
      walletBalance: account.walletBalance.toString(),
      availableBalance: account.availableBalance.toString(),
      unrealizedPnl: account.unrealizedPnl.toString(),
      source,
      takenAt: new Date(),
    });
    await em.flush();
  }

  private async upsertOrder(em: EntityManager, userId: string, result: OrderResult, note: string | null): Promise<Order> {
    let order = await em.findOne(Order, { user: userId, clientOrderId: result.clientOrderId });
    if (!order) {
      // Not ours: a manual trade on the account or the exchange's own (liquidation).
      order = em.create(Order, {
        user: userId,
        clientOrderId: result.clientOrderId.slice(0, 36),
        origin: OrderOrigin.EXTERNAL,
        symbol: result.symbol,
        side: result.side === 'BUY' ? OrderSide.BUY : OrderSide.SELL,
        quantity: result.quantity.toString(),
        reduceOnly: result.reduceOnly,
        error: note,
      });
    }
    if (!FINAL_ORDER_STATUSES.has(order.status) || order.status === result.status) applyOrderResult(order, result);
    return order;
  }

  /** Inserts the fills not stored yet; returns the realized PnL of each new one (closing fills carry it). */
  private async insertTrades(em: EntityManager, userId: string, fills: TradeFill[], order: Order | null): Promise<Decimal[]> {
    const existing = new Set(
      (
        await em.find(Trade, { user: userId, exchangeTradeId: { $in: fills.map((f) => f.exchangeTradeId) } }, { fields: ['exchangeTradeId', 'symbol'] })
      ).map((t) => `${t.symbol}:${t.exchangeTradeId}`),
    );
    const orders = order
      ? new Map([[order.exchangeOrderId ?? '', order]])
      : new Map(
          (await em.find(Order, { user: userId, exchangeOrderId: { $in: fills.map((f) => f.exchangeOrderId) } })).map((o) => [o.exchangeOrderId ?? '', o]),
        );
    const inserted: Decimal[] = [];
    for (const fill of fills) {
      if (existing.has(`${fill.symbol}:${fill.exchangeTradeId}`)) continue;
      existing.add(`${fill.symbol}:${fill.exchangeTradeId}`);
      em.create(Trade, {
        user: userId,
        order: order ?? orders.get(fill.exchangeOrderId) ?? null,
        exchangeTradeId: fill.exchangeTradeId,
        symbol: fill.symbol,
        side: fill.side === 'BUY' ? OrderSide.BUY : OrderSide.SELL,
        price: fill.price.toString(),
        quantity: fill.quantity.toString(),
        realizedPnl: fill.realizedPnl.toString(),
        commission: fill.commission.toString(),
        commissionAsset: fill.commissionAsset,
        executedAt: fill.time,
      });
      inserted.push(fill.realizedPnl);
    }
    return inserted;
  }
}
