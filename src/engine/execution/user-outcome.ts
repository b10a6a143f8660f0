import Decimal from 'decimal.js';
import { ExecutionStatus, OrderStatus, SignalAction } from '../../entities/enums';
import type { Order } from '../../entities/order.entity';
import type { Signal } from '../../entities/signal.entity';
import type { ExecutionOutcome } from '../ledger/execution-ledger';
import { UNKNOWN_REASON } from './order-placement';
import { slippageRatio } from './slippage';

/**
 * One user's outcome for one signal, as the task reaches it; the fan-out adds
 * the rank and latency before the ledger stores it. `unknown`: the exchange may
 * hold this user's order without having said so, and the reconciler settles it later.
 */
export type UserOutcome = Omit<ExecutionOutcome, 'rank' | 'latencyMs' | 'unknown'> & { unknown: boolean };

export const skipped = (userId: string, reason: string): UserOutcome => ({
  userId, status: ExecutionStatus.SKIPPED, reason, order: null, fillPrice: null, slippage: null, unknown: false,
});

export const failed = (userId: string, reason: string, order: Order | null = null, unknown = false): UserOutcome => ({
  userId, status: ExecutionStatus.FAILED, reason, order, fillPrice: null, slippage: null, unknown,
});

/** Still unknown after the task's time ran out (or the placement could not tell). */
export const unknownOutcome = (userId: string, order: Order | null = null): UserOutcome => failed(userId, UNKNOWN_REASON, order, true);

/** An order the exchange answered for: placed (with its fill and slippage) or failed with its reason. */
export function fromStoredOrder(userId: string, order: Order, reference: Decimal, signal: Signal): UserOutcome {
  const ended = order.status === OrderStatus.FAILED || order.status === OrderStatus.REJECTED || order.status === OrderStatus.EXPIRED;
  // An order that ended after part of it filled (a market order on a thin book) did trade: that part is placed.
  if (ended && new Decimal(order.executedQty).isZero()) {
    return failed(userId, order.error ?? `order ${order.status.toLowerCase()}`, order);
  }
  if (order.status === OrderStatus.PENDING) return unknownOutcome(userId, order);
  const fill = order.avgPrice ? new Decimal(order.avgPrice) : null;
  return {
    userId,
    status: ExecutionStatus.PLACED,
    reason: signal.action === SignalAction.CLOSE ? 'position closed' : null,
    order,
    fillPrice: fill ? fill.toString() : null,
    slippage: fill && !fill.isZero() ? slippageRatio(order.side, fill, reference).toDecimalPlaces(10).toString() : null,
    unknown: false,
  };
}
