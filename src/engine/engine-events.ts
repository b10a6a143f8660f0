import type { Order } from '../entities/order.entity';
import type { Position } from '../entities/position.entity';
import type { UserExecution } from '../entities/user-execution.entity';
import { formatDecimal } from '../schema/scalars';
import { toSignalType } from '../services/signal.service';
import type { ExecutionReport } from './signal-executor';

/**
 * Plain, JSON-safe shapes of what the engine publishes: the GraphQL types'
 * fields exactly, so one mapping serves subscription events (over Redis) and
 * mutation results alike.
 */
export function toOrderEvent(order: Order) {
  return {
    id: order.id,
    clientOrderId: order.clientOrderId,
    exchangeOrderId: order.exchangeOrderId,
    signalId: order.signal?.id ?? null,
    symbol: order.symbol,
    side: order.side,
    type: order.type,
    quantity: formatDecimal(order.quantity),
    avgPrice: order.avgPrice === null ? null : formatDecimal(order.avgPrice),
    executedQty: formatDecimal(order.executedQty),
    reduceOnly: order.reduceOnly,
    status: order.status,
    error: order.error,
    createdAt: order.createdAt,
    updatedAt: order.updatedAt,
  };
}

export function toPositionEvent(position: Position) {
  return {
    symbol: position.symbol,
    side: position.side,
    quantity: formatDecimal(position.quantity),
    entryPrice: formatDecimal(position.entryPrice),
    markPrice: position.markPrice === null ? null : formatDecimal(position.markPrice),
    unrealizedPnl: formatDecimal(position.unrealizedPnl),
    leverage: position.leverage,
    updatedAt: position.updatedAt,
  };
}

export function toExecutionEvent(row: UserExecution) {
  const order = row.order && 'clientOrderId' in row.order && row.order.clientOrderId ? toOrderEvent(row.order as Order) : null;
  return {
    signalId: row.signal.id,
    userId: row.user.id,
    status: row.status,
    reason: row.reason,
    order,
    latencyMs: row.latencyMs,
    dispatchRank: row.dispatchRank ?? null,
    fillPrice: row.fillPrice === null || row.fillPrice === undefined ? null : formatDecimal(row.fillPrice),
    // A ratio, not money: the contract carries it as a Float.
    slippage: row.slippage === null || row.slippage === undefined ? null : Number(row.slippage),
    createdAt: row.createdAt,
  };
}

export function toReportEvent(report: ExecutionReport) {
  return {
    signal: toSignalType(report.signal),
    total: report.total,
    placed: report.placed,
    skipped: report.skipped,
    failed: report.failed,
    durationMs: report.durationMs,
    results: report.results.map(toExecutionEvent),
  };
}
