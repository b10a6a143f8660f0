import type { EntityManager } from '@mikro-orm/postgresql';
import { randomUUID } from 'node:crypto';
import type Decimal from 'decimal.js';
import type { AccountSnapshot } from '../exchange/exchange-gateway';

/** A reconciler pass re-stores an unchanged balance at most this often (the stream's changes are always stored). */
const QUIET_SNAPSHOT_EVERY_MS = 15 * 60_000;

/** balance_snapshots: the account's equity over time (billing's day start/end, the equity history). */
export class BalanceLedger {
  /** Per node, the last stored snapshot of each user: the reconciler's minute-by-minute reads do not each become a row. */
  private readonly lastStored = new Map<string, { equity: string; at: number }>();

  /** False for a reconciler's read of a balance this node stored unchanged within QUIET_SNAPSHOT_EVERY_MS: not worth a row. */
  due(userId: string, account: AccountSnapshot, source: 'SIGNAL' | 'STREAM' | 'RECONCILE', at: Date): boolean {
    const last = this.lastStored.get(userId);
    return !(source === 'RECONCILE' && last && last.equity === account.equity.toFixed() && at.getTime() - last.at < QUIET_SNAPSHOT_EVERY_MS);
  }

  async record(em: EntityManager, userId: string, account: AccountSnapshot, source: 'SIGNAL' | 'STREAM' | 'RECONCILE', at: Date): Promise<boolean> {
    if (!this.due(userId, account, source, at)) return false;
    const equity = account.equity.toFixed();
    await em.execute(
      'insert into balance_snapshots (id, user_id, equity, wallet_balance, available_balance, unrealized_pnl, source, taken_at) values (?, ?, ?, ?, ?, ?, ?, ?)',
      [randomUUID(), userId, equity, account.walletBalance.toFixed(), account.availableBalance.toFixed(), account.unrealizedPnl.toFixed(), source, at],
    );
    this.lastStored.set(userId, { equity, at: at.getTime() });
    return true;
  }

  /** The stream's ACCOUNT_UPDATE carries the wallet and the positions' PnL, not the available balance: the last known one stands in. */
  async latest(em: EntityManager, userId: string): Promise<{ equity: Decimal.Value; availableBalance: string } | null> {
    const [row] = await em.execute<Array<{ equity: string; available_balance: string }>>(
      'select equity, available_balance from balance_snapshots where user_id = ? order by taken_at desc limit 1',
      [userId],
    );
    return row ? { equity: row.equity, availableBalance: row.available_balance } : null;
  }

  forget(userId: string): void {
    this.lastStored.delete(userId);
  }
}
