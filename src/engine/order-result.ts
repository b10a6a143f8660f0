import { OrderStatus } from '../entities/enums';
import type { Order } from '../entities/order.entity';
import type { OrderResult } from './exchange/exchange-gateway';

/** Statuses an order never leaves. */
export const FINAL_ORDER_STATUSES: ReadonlySet<string> = new Set([
  OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED, OrderStatus.EXPIRED, OrderStatus.FAILED,
]);

/** What the exchange says about an order, onto our row; an answer without an average price keeps the one we know. */
export function applyOrderResult(order: Order, result: OrderResult): void {
  order.exchangeOrderId = result.exchangeOrderId;
  order.status = result.status as OrderStatus;
  order.executedQty = result.executedQty.toString();
  order.avgPrice = result.avgPrice ? result.avgPrice.toString() : order.avgPrice;
  order.updatedAt = new Date();
}
