import type { EntityManager } from '@mikro-orm/postgresql';
import { randomUUID } from 'node:crypto';
import Decimal from 'decimal.js';
import { PositionSide } from '../../entities/enums';
import type { Position } from '../../entities/position.entity';
import type { AuditTrail } from '../ports';
import type { PositionSnapshot } from '../exchange/exchange-gateway';
import { FLAT_FIELDS, POSITION_RETURNING, toPosition, upsertPosition, type PositionFields, type PositionRow } from './position-upsert';

/** A reduce-only exit never goes past flat: what it leaves, signed like the position it reduced. */
const signedRemainder = (before: Decimal, executed: Decimal) => {
  const left = Decimal.max(0, before.abs().minus(executed));
  return before.isNegative() ? left.neg() : left;
};

export const sideOf = (amt: Decimal) => (amt.isZero() ? PositionSide.FLAT : amt.gt(0) ? PositionSide.LONG : PositionSide.SHORT);

/** positions as displayed: the exchange's snapshots, our own fills' immediate effect, the strategy's claim. */
export class PositionLedger {
  constructor(private readonly audit: AuditTrail) {}

  /**
   * Positions as the exchange reports them. The reconciler's view is also the
   * check on the fill-counted round trip: a difference it cannot explain by a
   * newer fill is written down (audited) and the count follows the exchange.
   */
  async applySnapshots(em: EntityManager, userId: string, snapshots: PositionSnapshot[], source: 'STREAM' | 'RECONCILE'): Promise<Position[]> {
    const changed: Position[] = [];
    for (const snap of snapshots) {
      const [current] = await em.execute<PositionRow[]>(
        'select symbol, side, quantity, entry_price, mark_price, unrealized_pnl, leverage, opened_by_strategy, close_pending, cycle_qty, last_fill_at, updated_at ' +
          'from positions where user_id = ? and symbol = ?',
        [userId, snap.symbol],
      );
      const side = sideOf(snap.positionAmt);
      const quantity = snap.positionAmt.abs();
      if (!current && side === PositionSide.FLAT) continue;
      const before = current ? `${current.side}:${new Decimal(current.quantity).toString()}` : `${PositionSide.FLAT}:0`;
      const after = `${side}:${quantity.toString()}`;
      if (before !== after && source === 'RECONCILE') {
        // Something happened while we were not looking: a fill, a liquidation or a manual trade.
        this.audit.record(em, { action: 'reconcile.position_changed', userId, detail: `${snap.symbol} ours ${before}, exchange ${after}` });
      }
      const flipped = current !== undefined && current.side !== PositionSide.FLAT && side !== PositionSide.FLAT && current.side !== side;
      const position = await upsertPosition(em, userId, snap.symbol, {
        side,
        quantity: quantity.toString(),
        entryPrice: side === PositionSide.FLAT ? '0' : snap.entryPrice.toString(),
        markPrice: snap.markPrice ? snap.markPrice.toString() : undefined,
        unrealizedPnl: side === PositionSide.FLAT ? '0' : snap.unrealizedPnl.toString(),
        leverage: snap.leverage ?? undefined,
        ...(side === PositionSide.FLAT || flipped ? { openedByStrategy: false, closePending: false } : {}),
      });
      if (source === 'RECONCILE') await this.resyncCycle(em, userId, snap, current);
      if (before !== after) changed.push(position);
    }
    return changed;
  }

  /** Our own fill's effect, written in the same statement as the order (see Ledger.recordPlacement). */
  afterOwnFill(fill: {
    opening: boolean; side: 'BUY' | 'SELL'; executedQty: Decimal; avgPrice: Decimal | null; leverage: number;
    positionBefore: Decimal | null; positionAfter: Decimal | null;
  }): PositionFields {
    if (!fill.opening) {
      // What the exchange held minus what this exit filled: a partial exit leaves the rest the strategy's, still to close.
      const remaining = fill.positionAfter ?? (fill.positionBefore ? signedRemainder(fill.positionBefore, fill.executedQty) : new Decimal(0));
      if (remaining.isZero()) return FLAT_FIELDS;
      return { side: sideOf(remaining), quantity: remaining.abs().toString(), openedByStrategy: true, closePending: true };
    }
    const avg = (fill.avgPrice ?? new Decimal(0)).toString();
    return {
      side: fill.side === 'BUY' ? PositionSide.LONG : PositionSide.SHORT,
      quantity: fill.executedQty.toString(),
      entryPrice: avg,
      markPrice: avg,
      leverage: fill.leverage,
      openedByStrategy: true,
      closePending: false,
    };
  }

  /**
   * Takes this account's lease on the symbol for one signal and reads the
   * position as it stands under it; null while another task holds a live lease.
   * A holder is `<signal id>|<task>`: a re-run of the same signal (its first run
   * died or timed out) takes the lease over, since that signal's orders are
   * found by their client ids and never sent twice.
   */
  async reserve(em: EntityManager, userId: string, symbol: string, holder: string, ttlMs: number): Promise<Position | null> {
    const rows = await em.execute<PositionRow[]>(
      'insert into positions (id, user_id, symbol, updated_at, busy_until, busy_by) values (?, ?, ?, now(), ?, ?) ' +
        'on conflict (user_id, symbol) do update set busy_until = excluded.busy_until, busy_by = excluded.busy_by ' +
        "where positions.busy_until is null or positions.busy_until < now() or split_part(positions.busy_by, '|', 1) = split_part(excluded.busy_by, '|', 1) " +
        POSITION_RETURNING,
      [randomUUID(), userId, symbol, new Date(Date.now() + ttlMs), holder],
    );
    return rows[0] ? toPosition(userId, rows[0]) : null;
  }

  async release(em: EntityManager, userId: string, symbol: string, holder: string): Promise<void> {
    await em.execute('update positions set busy_until = null, busy_by = null where user_id = ? and symbol = ? and busy_by = ?', [userId, symbol, holder]);
  }

  /** The exchange shows no position: ours says flat too. Null when it already did. */
  async flatten(em: EntityManager, userId: string, symbol: string): Promise<Position | null> {
    const rows = await em.execute<PositionRow[]>(
      "update positions set side = 'FLAT', quantity = 0, entry_price = 0, unrealized_pnl = 0, opened_by_strategy = false, close_pending = false, updated_at = now() " +
        `where user_id = ? and symbol = ? and side <> 'FLAT' ${POSITION_RETURNING}`,
      [userId, symbol],
    );
    return rows[0] ? toPosition(userId, rows[0]) : null;
  }

  /** The open position on this symbol was opened by the engine: CLOSE signals will reach it. */
  async claimForStrategy(em: EntityManager, userId: string, symbol: string): Promise<void> {
    await em.execute("update positions set opened_by_strategy = true where user_id = ? and symbol = ? and side <> 'FLAT'", [userId, symbol]);
  }

  /**
   * The exchange's size is the truth the fill count must agree with. A snapshot
   * older than the newest fill we counted says nothing about it (that fill is not
   * in it yet); otherwise a difference means fills we never saw (older than the
   * exchange keeps, or before the key was bound): the count restarts from the
   * exchange's size, without a close event for what we cannot account for.
   */
  private async resyncCycle(em: EntityManager, userId: string, snap: PositionSnapshot, current: PositionRow | undefined): Promise<void> {
    const counted = new Decimal(current?.cycle_qty ?? 0);
    if (counted.eq(snap.positionAmt)) return;
    const lastFill = current?.last_fill_at ? new Date(current.last_fill_at) : null;
    if (lastFill && snap.updatedAt && snap.updatedAt < lastFill) return;
    this.audit.record(em, { action: 'reconcile.fill_count_corrected', userId, detail: `${snap.symbol} counted ${counted.toFixed()}, exchange ${snap.positionAmt.toFixed()}` });
    const flat = snap.positionAmt.isZero();
    await em.execute(
      'update positions set cycle_qty = ?, cycle_realized_pnl = case when ? then 0 else cycle_realized_pnl end, cycle_commission = case when ? then 0 else cycle_commission end, ' +
        'cycle_fills = case when ? then 0 else cycle_fills end, cycle_started_at = case when ? then null else coalesce(cycle_started_at, now()) end where user_id = ? and symbol = ?',
      [snap.positionAmt.toFixed(), flat, flat, flat, flat, userId, snap.symbol],
    );
  }
}

