import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import Decimal from 'decimal.js';
import type { TradeFill } from '../exchange/exchange-gateway';
import type { FillRecorded, LedgerEvent, PositionClosed } from '../engine-events';
import { fillMovements } from './movement-facts';
import type { MovementLedger } from './movement-ledger';

export interface ValuedFill extends TradeFill {
  /** The commission's USDT value at the trade (null: no price for its asset yet). */
  commissionUsdt: Decimal | null;
}

interface CycleRow {
  cycle_qty: string;
  cycle_realized_pnl: string;
  cycle_commission: string;
  cycle_fills: number;
  cycle_started_at: Date | null;
  last_fill_at: Date | null;
}

/** Running totals of one position's round trip, as the fills tell it. */
interface Cycle {
  qty: Decimal;
  realized: Decimal;
  commission: Decimal;
  fills: number;
  startedAt: Date | null;
  lastFillAt: Date | null;
}

/**
 * Applies one fill to a round trip. A close is the fill that brings the signed
 * size back to zero or through it: one PositionClosed however many partial
 * fills the exit took. A flip's fill closes the old side (its whole commission
 * goes to the close) and opens the new one.
 */
export function applyFillToCycle(cycle: Cycle, fill: ValuedFill): { cycle: Cycle; closed: Omit<PositionClosed, 'type' | 'userId' | 'symbol'> | null } {
  const signed = fill.side === 'BUY' ? fill.quantity : fill.quantity.neg();
  const fresh = cycle.qty.isZero();
  const next = {
    qty: cycle.qty.plus(signed),
    realized: (fresh ? new Decimal(0) : cycle.realized).plus(fill.realizedPnl),
    commission: (fresh ? new Decimal(0) : cycle.commission).plus(fill.commissionUsdt ?? 0),
    fills: (fresh ? 0 : cycle.fills) + 1,
    startedAt: fresh ? fill.time : cycle.startedAt,
    lastFillAt: cycle.lastFillAt && cycle.lastFillAt > fill.time ? cycle.lastFillAt : fill.time,
  };
  const crossed = !cycle.qty.isZero() && (next.qty.isZero() || next.qty.isPositive() !== cycle.qty.isPositive());
  if (!crossed) return { cycle: next, closed: null };
  const closed = {
    side: cycle.qty.isPositive() ? ('LONG' as const) : ('SHORT' as const),
    realizedPnl: next.realized,
    commission: next.commission,
    netPnl: next.realized.minus(next.commission),
    fills: next.fills,
    openedAt: next.startedAt,
    closedAt: fill.time,
  };
  const reopened = !next.qty.isZero();
  return {
    cycle: { ...next, realized: new Decimal(0), commission: new Decimal(0), fills: reopened ? 1 : 0, startedAt: reopened ? fill.time : null },
    closed,
  };
}

/** trades: each fill once, with its movements and its effect on the position's round trip, in the caller's transaction. */
export class FillLedger {
  constructor(private readonly movements: MovementLedger) {}

  async record(tx: EntityManager, userId: string, fills: ValuedFill[], source: 'STREAM' | 'RECONCILE' | 'ENGINE'): Promise<LedgerEvent[]> {
    if (fills.length === 0) return [];
    const sorted = [...fills].sort((a, b) => a.time.getTime() - b.time.getTime() || compareIds(a.exchangeTradeId, b.exchangeTradeId));
    const orderIds = await this.orderIds(tx, userId, sorted);
    const inserted: ValuedFill[] = [];
    for (const fill of sorted) {
      const rows = await tx.execute<Array<{ id: string }>>(
        'insert into trades (id, user_id, order_id, exchange_trade_id, symbol, side, price, quantity, realized_pnl, commission, commission_asset, executed_at, created_at) ' +
          'values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now()) on conflict (user_id, symbol, exchange_trade_id) do nothing returning id',
        [
          randomUUID(), userId, orderIds.get(fill.exchangeOrderId) ?? null, fill.exchangeTradeId, fill.symbol, fill.side, fill.price.toFixed(),
          fill.quantity.toFixed(), fill.realizedPnl.toFixed(), fill.commission.toFixed(), fill.commissionAsset.slice(0, 16), fill.time,
        ],
      );
      if (rows.length === 1) inserted.push(fill);
    }
    if (inserted.length === 0) return [];

    const events: LedgerEvent[] = inserted.map(
      (fill): FillRecorded => ({
        type: 'FillRecorded', userId, symbol: fill.symbol, exchangeTradeId: fill.exchangeTradeId, orderId: orderIds.get(fill.exchangeOrderId) ?? null,
        side: fill.side, price: fill.price, quantity: fill.quantity, realizedPnl: fill.realizedPnl, commission: fill.commission,
        commissionAsset: fill.commissionAsset, commissionUsdt: fill.commissionUsdt, executedAt: fill.time,
      }),
    );
    events.push(...(await this.movements.record(tx, userId, inserted.flatMap((f) => fillMovements(f, f.commissionUsdt, source)))));
    for (const symbol of new Set(inserted.map((f) => f.symbol))) {
      events.push(...(await this.advanceCycle(tx, userId, symbol, inserted.filter((f) => f.symbol === symbol))));
    }
    return events;
  }

  /** The position row locked for this transaction: concurrent fills of one position count one after the other. */
  private async advanceCycle(tx: EntityManager, userId: string, symbol: string, fills: ValuedFill[]): Promise<PositionClosed[]> {
    await tx.execute('insert into positions (id, user_id, symbol, updated_at) values (?, ?, ?, now()) on conflict (user_id, symbol) do nothing', [
      randomUUID(), userId, symbol,
    ]);
    const [row] = await tx.execute<CycleRow[]>(
      'select cycle_qty, cycle_realized_pnl, cycle_commission, cycle_fills, cycle_started_at, last_fill_at from positions where user_id = ? and symbol = ? for update',
      [userId, symbol],
    );
    let cycle: Cycle = {
      qty: new Decimal(row.cycle_qty), realized: new Decimal(row.cycle_realized_pnl), commission: new Decimal(row.cycle_commission),
      fills: row.cycle_fills, startedAt: row.cycle_started_at ? new Date(row.cycle_started_at) : null,
      lastFillAt: row.last_fill_at ? new Date(row.last_fill_at) : null,
    };
    const closes: PositionClosed[] = [];
    for (const fill of fills) {
      const step = applyFillToCycle(cycle, fill);
      cycle = step.cycle;
      if (step.closed) closes.push({ type: 'PositionClosed', userId, symbol, ...step.closed });
    }
    await tx.execute(
      'update positions set cycle_qty = ?, cycle_realized_pnl = ?, cycle_commission = ?, cycle_fills = ?, cycle_started_at = ?, last_fill_at = ? where user_id = ? and symbol = ?',
      [cycle.qty.toFixed(), cycle.realized.toFixed(), cycle.commission.toFixed(), cycle.fills, cycle.startedAt, cycle.lastFillAt, userId, symbol],
    );
    return closes;
  }

  private async orderIds(tx: EntityManager, userId: string, fills: TradeFill[]): Promise<Map<string, string>> {
    const ids = [...new Set(fills.map((f) => f.exchangeOrderId))];
    const rows = await tx.execute<Array<{ id: string; exchange_order_id: string }>>(
      'select id, exchange_order_id from orders where user_id = ? and exchange_order_id in (?)',
      [userId, ids],
    );
    return new Map(rows.map((r) => [r.exchange_order_id, r.id]));
  }
}

/** Exchange trade ids are numbers on Binance: compare them as such when they are. */
function compareIds(a: string, b: string): number {
  return /^\d+$/.test(a) && /^\d+$/.test(b) ? (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0) : a.localeCompare(b);
}
