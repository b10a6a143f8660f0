import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { ExecutionStatus, OrderOrigin, OrderSide, OrderStatus } from '../../entities/enums';
import { Order } from '../../entities/order.entity';
import type { OrderResult } from '../exchange/exchange-gateway';
import { applyOrderResult, FINAL_ORDER_STATUSES, isNewer, STATUS_RANK_SQL } from './order-result';

export interface OrderIntent {
  userId: string;
  signalId: string | null;
  clientOrderId: string;
  origin: OrderOrigin;
  symbol: string;
  side: 'BUY' | 'SELL';
  quantity: string;
  reduceOnly: boolean;
}

/** The guarded UPDATE of one order from an exchange report: applied only when it is news (see isNewer). */
export function orderUpdateSql(): string {
  return (
    'update orders set status = ?, exchange_order_id = ?, executed_qty = ?, avg_price = coalesce(?, avg_price), error = ?, ' +
    'unknown_since = null, updated_at = ? where id = ? and user_id = ? and (executed_qty < ? or (executed_qty = ? and (' +
    `${STATUS_RANK_SQL('status')} < ${STATUS_RANK_SQL('?')} or (${STATUS_RANK_SQL('status')} = ${STATUS_RANK_SQL('?')} and ${STATUS_RANK_SQL('status')} < 3 and status <> ?))))`
  );
}

export function orderUpdateValues(order: Order, result: OrderResult, error: string | null): unknown[] {
  const executed = result.executedQty.toString();
  return [
    result.status, result.exchangeOrderId, executed, result.avgPrice ? result.avgPrice.toString() : null, error, new Date(),
    order.id, order.user.id, executed, executed, result.status, result.status, result.status,
  ];
}

/** Orders: the intent row before sending, the exchange's answers after, and the "outcome unknown" life cycle. */
export class OrderLedger {
  /** Inserted before anything is sent; the unique client id means a re-run never creates a second order. */
  async open(em: EntityManager, intent: OrderIntent): Promise<{ order: Order; inserted: boolean }> {
    const now = new Date();
    const id = randomUUID();
    const side = intent.side === 'BUY' ? OrderSide.BUY : OrderSide.SELL;
    // Plain SQL: one statement per user on the fan-out's hot path, no query building.
    const rows = await em.execute<Array<{ id: string }>>(
      'insert into orders (id, user_id, signal_id, client_order_id, origin, symbol, side, type, quantity, executed_qty, reduce_only, status, created_at, updated_at) ' +
        "values (?, ?, ?, ?, ?, ?, ?, 'MARKET', ?, '0', ?, 'PENDING', ?, ?) on conflict (client_order_id) do nothing returning id",
      [id, intent.userId, intent.signalId, intent.clientOrderId, intent.origin, intent.symbol, side, intent.quantity, intent.reduceOnly, now, now],
    );
    if (rows.length === 1) {
      const order = em.create(
        Order,
        {
          id, user: intent.userId, signal: intent.signalId, clientOrderId: intent.clientOrderId, origin: intent.origin, symbol: intent.symbol,
          side, type: 'MARKET', quantity: intent.quantity, avgPrice: null, executedQty: '0', reduceOnly: intent.reduceOnly,
          status: OrderStatus.PENDING, exchangeOrderId: null, error: null, unknownSince: null, createdAt: now, updatedAt: now,
        },
        { managed: true },
      );
      return { order, inserted: true };
    }
    return { order: await em.findOneOrFail(Order, { clientOrderId: intent.clientOrderId, user: intent.userId }), inserted: false };
  }

  /** The exchange holds the order: its answer onto our row, unless the row already knows better. Returns whether anything changed. */
  async applyResult(em: EntityManager, order: Order, result: OrderResult, error: string | null = null): Promise<boolean> {
    if (isNewer(order, result)) {
      applyOrderResult(order, result);
      order.error = error;
      // Guarded in SQL too: the stream may have written a later state since this row was read.
      await em.execute(orderUpdateSql(), orderUpdateValues(order, result, error));
      return true;
    }
    if (order.unknownSince === null && order.error === error) return false;
    // Nothing new about the order itself, but the doubt about it is over.
    Object.assign(order, { error, unknownSince: null, updatedAt: new Date() });
    await em.execute('update orders set error = ?, unknown_since = null, updated_at = ? where id = ? and user_id = ?', [error, order.updatedAt, order.id, order.user.id]);
    return true;
  }

  /** Sent, but no answer we can trust: nobody sends it again until it has been looked up by client id. */
  async markUnknown(em: EntityManager, order: Order, reason: string): Promise<void> {
    order.error = reason;
    order.unknownSince ??= new Date();
    order.updatedAt = new Date();
    await em.execute('update orders set error = ?, unknown_since = coalesce(unknown_since, ?), updated_at = ? where id = ? and user_id = ?', [
      reason, order.unknownSince, order.updatedAt, order.id, order.user.id,
    ]);
  }

  /** Never reached the exchange (or provably never executed there). */
  async markFailed(em: EntityManager, order: Order, reason: string): Promise<void> {
    Object.assign(order, { status: OrderStatus.FAILED, error: reason, unknownSince: null, updatedAt: new Date() });
    await em.execute("update orders set status = 'FAILED', error = ?, unknown_since = null, updated_at = ? where id = ? and user_id = ? and status = 'PENDING'", [
      reason, order.updatedAt, order.id, order.user.id,
    ]);
  }

  /**
   * Ends an order's "outcome unknown" life: what the exchange says (or that it
   * never got it) onto the order, and the signal outcome recorded as unknown
   * becomes what really happened. One place for both, whoever settles it.
   */
  async settle(tx: EntityManager, order: Order, result: OrderResult | null, absentReason: string): Promise<void> {
    if (result) await this.applyResult(tx, order, result);
    else await this.markFailed(tx, order, absentReason);
    const filled = order.status === OrderStatus.FILLED || order.status === OrderStatus.PARTIALLY_FILLED;
    await tx.execute(
      "update user_executions set status = ?, reason = ?, fill_price = coalesce(?, fill_price) where order_id = ? and user_id = ? and status = 'FAILED'",
      filled
        ? [ExecutionStatus.PLACED, 'settled by the reconciler', order.avgPrice, order.id, order.user.id]
        : [ExecutionStatus.FAILED, order.error ?? `order ${order.status.toLowerCase()}`, null, order.id, order.user.id],
    );
  }

  /** An order the exchange reports (user-data stream): ours by client id, or an external one (manual trade, liquidation). */
  async upsertReported(tx: EntityManager, userId: string, result: OrderResult, note: string | null): Promise<{ order: Order; changed: boolean }> {
    let order = await tx.findOne(Order, { user: userId, clientOrderId: result.clientOrderId.slice(0, 36) });
    if (!order) {
      order = tx.create(Order, {
        user: userId,
        clientOrderId: result.clientOrderId.slice(0, 36),
        origin: OrderOrigin.EXTERNAL,
        symbol: result.symbol,
        side: result.side === 'BUY' ? OrderSide.BUY : OrderSide.SELL,
        quantity: result.quantity.toString(),
        reduceOnly: result.reduceOnly,
        error: note,
      });
      applyOrderResult(order, result);
      await tx.flush();
      return { order, changed: true };
    }
    if (FINAL_ORDER_STATUSES.has(order.status) && !isNewer(order, result)) return { order, changed: false };
    const changed = await this.applyResult(tx, order, result, order.unknownSince ? null : order.error);
    return { order, changed };
  }

  /** Orders not final yet (the reconciler looks each up by client id). */
  openOrders(em: EntityManager, userId: string): Promise<Order[]> {
    return em.find(Order, { user: userId, status: { $in: [OrderStatus.PENDING, OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED] } });
  }
}
