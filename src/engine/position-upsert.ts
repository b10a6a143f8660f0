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

/**
 * One atomic INSERT … ON CONFLICT (user, symbol) DO UPDATE: the engine's fill
 * and the user-data stream may write the same position at the same moment.
 */
export async function upsertPosition(em: EntityManager, userId: string, symbol: string, fields: PositionFields): Promise<Position> {
  const data = {
    // Plain-data upserts skip property initialisers: the id is given here and never merged.
    id: randomUUID(),
    user: userId,
    symbol,
    side: fields.side,
    quantity: fields.quantity,
    entryPrice: fields.entryPrice,
    unrealizedPnl: fields.unrealizedPnl ?? '0',
    updatedAt: new Date(),
    ...(fields.markPrice !== undefined ? { markPrice: fields.markPrice } : {}),
    ...(fields.leverage !== undefined ? { leverage: fields.leverage } : {}),
    ...(fields.openedByStrategy !== undefined ? { openedByStrategy: fields.openedByStrategy } : {}),
  };
  const merge = Object.keys(data).filter((k) => k !== 'id' && k !== 'user' && k !== 'symbol') as never[];
  // On a fork of its own: the returned row is for reading (events), never flushed again by the caller's unit of work.
  return em.fork().upsert(Position, data, { onConflictFields: ['user', 'symbol'], onConflictAction: 'merge', onConflictMergeFields: merge });
}

export const FLAT_FIELDS: PositionFields = { side: PositionSide.FLAT, quantity: '0', entryPrice: '0', unrealizedPnl: '0', openedByStrategy: false };
