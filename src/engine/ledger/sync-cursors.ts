import type { EntityManager } from '@mikro-orm/postgresql';

/** The exchange histories the reconciler reads over REST, each resumed from its own cursor. */
export const fillsFeed = (symbol: string) => `fills:${symbol}`;
export const INCOME_FEED = 'income';

/** What a REST read covered: history up to `through` was fetched whole and is stored with it. */
export interface HistoryRead {
  feed: string;
  through: Date;
}

/**
 * ledger_cursors: how far each REST history has been read. A cursor only moves
 * forward, and only in the transaction that stores what the read found, so a
 * crash between the two re-reads rather than skips.
 */
export class SyncCursors {
  async syncedThrough(em: EntityManager, userId: string, feed: string): Promise<Date | null> {
    const [row] = await em.execute<Array<{ synced_through: Date }>>(
      'select synced_through from ledger_cursors where user_id = ? and feed = ?',
      [userId, feed],
    );
    return row ? new Date(row.synced_through) : null;
  }

  async advance(tx: EntityManager, userId: string, read: HistoryRead): Promise<void> {
    await tx.execute(
      'insert into ledger_cursors (user_id, feed, synced_through, updated_at) values (?, ?, ?, now()) ' +
        'on conflict (user_id, feed) do update set synced_through = greatest(ledger_cursors.synced_through, excluded.synced_through), updated_at = now()',
      [userId, read.feed, read.through],
    );
  }
}
