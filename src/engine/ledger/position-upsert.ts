import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { PositionSide } from '../../entities/enums';
import { Position } from '../../entities/position.entity';

/** The displayed position: what the exchange reports (snapshots) or what our own fill implies. */
export interface PositionFields {
  side: PositionSide;
  quantity: string;
  /** Left out: the stored entry stays (a partial exit does not move it). */
  entryPrice?: string;
  markPrice?: string | null;
  unrealizedPnl?: string;
  leverage?: number;
  /** Left out: the stored value stays (only engine fills claim a position for the strategy). */
  openedByStrategy?: boolean;
  closePending?: boolean;
}

const COLUMNS: Record<keyof PositionFields, string> = {
  side: 'side',
  quantity: 'quantity',
  entryPrice: 'entry_price',
  markPrice: 'mark_price',
  unrealizedPnl: 'unrealized_pnl',
  leverage: 'leverage',
  openedByStrategy: 'opened_by_strategy',
  closePending: 'close_pending',
};

export const POSITION_RETURNING =
  'returning symbol, side, quantity, entry_price, mark_price, unrealized_pnl, leverage, opened_by_strategy, close_pending, cycle_qty, last_fill_at, updated_at';

export interface PositionRow {
  symbol: string;
  side: PositionSide;
  quantity: string;
  entry_price: string;
  mark_price: string | null;
  unrealized_pnl: string;
  leverage: number;
  opened_by_strategy: boolean;
  close_pending: boolean;
  cycle_qty: string;
  last_fill_at: Date | null;
  updated_at: Date;
}

/**
 * One atomic INSERT … ON CONFLICT (user, symbol) DO UPDATE of the displayed
 * fields (never the fill-counted cycle): our own fill and the user-data stream
 * may write the same position at the same moment. Plain SQL on purpose: it
 * runs once per user on the fan-out's hot path.
 */
/**
 * `after`: the name of a data-modifying CTE of the same statement that must run
 * first. Reading it in the row forces PostgreSQL to finish that CTE (and take
 * its row locks) before this upsert locks the position, so the statement takes
 * its locks in the same order as every transaction that writes orders then
 * positions (the stream's), and cannot deadlock with them.
 */
export function positionUpsertSql(fields: PositionFields, after?: string, releaseLease?: string): { sql: string; values: unknown[] } {
  const given = (Object.keys(COLUMNS) as Array<keyof PositionFields>).filter((k) => fields[k] !== undefined);
  const set = { ...fields, unrealizedPnl: fields.unrealizedPnl ?? '0' };
  if (!given.includes('unrealizedPnl')) given.push('unrealizedPnl');
  const columns = given.map((k) => COLUMNS[k]);
  // The task that held this account's lease lets go of it in the same statement that records its fill.
  const release = releaseLease
    ? ', busy_until = case when positions.busy_by = ? then null else positions.busy_until end, busy_by = case when positions.busy_by = ? then null else positions.busy_by end'
    : '';
  const sql =
    `insert into positions (id, user_id, symbol, ${columns.join(', ')}, updated_at) ` +
    `values (?, ?, ?, ${columns.map(() => '?').join(', ')}, ${after ? `coalesce((select max(now()) from ${after}), now())` : 'now()'}) ` +
    `on conflict (user_id, symbol) do update set ${[...columns, 'updated_at'].map((c) => `${c} = excluded.${c}`).join(', ')}${release} ` +
    POSITION_RETURNING;
  return { sql, values: [...given.map((k) => set[k] as unknown), ...(releaseLease ? [releaseLease, releaseLease] : [])] };
}

export async function upsertPosition(em: EntityManager, userId: string, symbol: string, fields: PositionFields): Promise<Position> {
  const { sql, values } = positionUpsertSql(fields);
  const [row] = await em.execute<PositionRow[]>(sql, [randomUUID(), userId, symbol, ...values]);
  return toPosition(userId, row);
}

/** A returned row as an (untracked) entity, for events and responses. */
export function toPosition(userId: string, row: PositionRow): Position {
  return Object.assign(new Position(), {
    user: { id: userId },
    symbol: row.symbol,
    side: row.side,
    quantity: row.quantity,
    entryPrice: row.entry_price,
    markPrice: row.mark_price,
    unrealizedPnl: row.unrealized_pnl,
    leverage: row.leverage,
    openedByStrategy: row.opened_by_strategy,
    closePending: row.close_pending,
    cycleQty: row.cycle_qty,
    lastFillAt: row.last_fill_at ? new Date(row.last_fill_at) : null,
    updatedAt: new Date(row.updated_at),
  }) as Position;
}

export const FLAT_FIELDS: PositionFields = {
  side: PositionSide.FLAT, quantity: '0', entryPrice: '0', unrealizedPnl: '0', openedByStrategy: false, closePending: false,
};
