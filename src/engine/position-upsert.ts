import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { PositionSide } from '../entities/enums';
import { Position } from '../entities/position.entity';

export interface PositionFields {
  side: PositionSide;
  quantity: string;
  entryPrice: string;
  markPrice?: string | null;
  unrealizedPnl?: string;
  leverage?: number;
  /** Left out: the stored value stays (only engine fills claim a position for the strategy). */
  openedByStrategy?: boolean;
}

const COLUMNS: Record<keyof PositionFields, string> = {
  side: 'side',
  quantity: 'quantity',
  entryPrice: 'entry_price',
  markPrice: 'mark_price',
  unrealizedPnl: 'unrealized_pnl',
  leverage: 'leverage',
  openedByStrategy: 'opened_by_strategy',
};

interface PositionRow {
  symbol: string;
  side: PositionSide;
  quantity: string;
  entry_price: string;
  mark_price: string | null;
  unrealized_pnl: string;
  leverage: number;
  opened_by_strategy: boolean;
  updated_at: Date;
}

/**
 * One atomic INSERT … ON CONFLICT (user, symbol) DO UPDATE: the engine's fill
 * and the user-data stream may write the same position at the same moment.
 * Plain SQL on purpose: it runs once per user on the fan-out's hot path, and
 * the returned row is only read (events), never tracked by a unit of work.
 */
export async function upsertPosition(em: EntityManager, userId: string, symbol: string, fields: PositionFields): Promise<Position> {
  const given = (Object.keys(COLUMNS) as Array<keyof PositionFields>).filter((k) => fields[k] !== undefined);
  const set = { ...fields, unrealizedPnl: fields.unrealizedPnl ?? '0' };
  if (!given.includes('unrealizedPnl')) given.push('unrealizedPnl');
  const columns = given.map((k) => COLUMNS[k]);
  const sql =
    `insert into positions (id, user_id, symbol, ${columns.join(', ')}, updated_at) ` +
    `values (?, ?, ?, ${columns.map(() => '?').join(', ')}, now()) ` +
    `on conflict (user_id, symbol) do update set ${[...columns, 'updated_at'].map((c) => `${c} = excluded.${c}`).join(', ')} ` +
    'returning symbol, side, quantity, entry_price, mark_price, unrealized_pnl, leverage, opened_by_strategy, updated_at';
  const [row] = await em.execute<PositionRow[]>(sql, [randomUUID(), userId, symbol, ...given.map((k) => set[k] as unknown)]);
  return Object.assign(new Position(), {
    symbol: row.symbol,
    side: row.side,
    quantity: row.quantity,
    entryPrice: row.entry_price,
    markPrice: row.mark_price,
    unrealizedPnl: row.unrealized_pnl,
    leverage: row.leverage,
    openedByStrategy: row.opened_by_strategy,
    updatedAt: new Date(row.updated_at),
  });
}

export const FLAT_FIELDS: PositionFields = { side: PositionSide.FLAT, quantity: '0', entryPrice: '0', unrealizedPnl: '0', openedByStrategy: false };
