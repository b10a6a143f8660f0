import { OrderStatus } from '../../entities/enums';
import type { Order } from '../../entities/order.entity';
import type { OrderResult } from '../exchange/exchange-gateway';

/** Statuses an order never leaves. */
export const FINAL_ORDER_STATUSES: ReadonlySet<string> = new Set([
  OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED, OrderStatus.EXPIRED, OrderStatus.FAILED,
]);

/**
 * How far along an order is. FAILED is our own verdict ("never placed"), not
 * the exchange's: anything the exchange reports outranks it.
 */
const RANK: Record<OrderStatus, number> = {
  [OrderStatus.PENDING]: 0,
  [OrderStatus.FAILED]: 0,
  [OrderStatus.NEW]: 1,
  [OrderStatus.PARTIALLY_FILLED]: 2,
  [OrderStatus.FILLED]: 3,
  [OrderStatus.CANCELED]: 3,
  [OrderStatus.EXPIRED]: 3,
  [OrderStatus.REJECTED]: 3,
};

/** The same ranking for an UPDATE's guard, so a late or repeated report never moves an order backwards. */
export const STATUS_RANK_SQL = (column: string) =>
  `(case ${column} when 'NEW' then 1 when 'PARTIALLY_FILLED' then 2 when 'FILLED' then 3 when 'CANCELED' then 3 when 'EXPIRED' then 3 when 'REJECTED' then 3 else 0 end)`;

/**
 * Whether `result` is news for `order`: more filled, or further along at the
 * same fill. The stream, the placement answer and the reconciler report the
 * same order in any order; only news is applied.
 */
export function isNewer(order: Pick<Order, 'status' | 'executedQty'>, result: OrderResult): boolean {
  const executed = result.executedQty.comparedTo(order.executedQty);
  if (executed !== 0) return executed > 0;
  const stored = RANK[order.status];
  const reported = RANK[result.status as OrderStatus];
  return reported > stored || (reported === stored && stored < 3 && result.status !== order.status);
}

/** What the exchange says about an order, onto our row; an answer without an average price keeps the one we know. */
export function applyOrderResult(order: Order, result: OrderResult): void {
  order.exchangeOrderId = result.exchangeOrderId;
  order.status = result.status as OrderStatus;
  order.executedQty = result.executedQty.toString();
  order.avgPrice = result.avgPrice ? result.avgPrice.toString() : order.avgPrice;
  order.unknownSince = null;
  order.updatedAt = new Date();
}
