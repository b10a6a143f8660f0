import { OrderStatus, PositionSide } from '../entities/enums';
import { Order } from '../entities/order.entity';
import { Position } from '../entities/position.entity';
import { Trade } from '../entities/trade.entity';
import { UserExecution } from '../entities/user-execution.entity';
import { badInput } from '../errors/app-error';
import { WITHOUT_OWNER } from '../entities/owner-filter';
import { assertAdmin } from './access';
import { afterCursor, decodeCursor, pageSize, toPage } from './pagination';
import type { SignedInScope } from './scope';

/** The signed-in user's own positions, orders, fills and signal outcomes. Every query names the owner. */
export class TradingService {
  positions(scope: SignedInScope): Promise<Position[]> {
    return scope.em.find(Position, { user: scope.actor.id, side: { $ne: PositionSide.FLAT } }, { orderBy: { symbol: 'asc' } });
  }

  async orders(scope: SignedInScope, args: { first?: number | null; after?: string | null; status?: OrderStatus | null }) {
    const size = pageSize(args.first, 50);
    const rows = await scope.em.find(
      Order,
      { user: scope.actor.id, ...(args.status ? { status: args.status } : {}), ...afterCursor(decodeCursor(args.after), 'createdAt') },
      { orderBy: { createdAt: 'desc', id: 'desc' }, limit: size + 1 },
    );
    return toPage(rows, size, (o) => o.createdAt);
  }

  async trades(scope: SignedInScope, args: { first?: number | null; after?: string | null; from?: Date | null; to?: Date | null }) {
    const size = pageSize(args.first, 50);
    if (args.from && args.to && args.from > args.to) throw badInput('from must be before to', 'from');
    const range = { ...(args.from ? { $gte: args.from } : {}), ...(args.to ? { $lt: args.to } : {}) };
    const rows = await scope.em.find(
      Trade,
      {
        user: scope.actor.id,
        ...(Object.keys(range).length > 0 ? { executedAt: range } : {}),
        ...afterCursor(decodeCursor(args.after), 'executedAt'),
      },
      { orderBy: { executedAt: 'desc', id: 'desc' }, limit: size + 1 },
    );
    return toPage(rows, size, (t) => t.executedAt);
  }

  /** Admin: another user's open positions. */
  async positionsOf(scope: SignedInScope, userId: string): Promise<Position[]> {
    assertAdmin(scope);
    return scope.em.find(Position, { user: userId, side: { $ne: PositionSide.FLAT } }, { ...WITHOUT_OWNER, orderBy: { symbol: 'asc' } });
  }

  /** Admin: another user's latest orders, newest first. */
  async recentOrdersOf(scope: SignedInScope, userId: string, limit: number): Promise<Order[]> {
    assertAdmin(scope);
    return scope.em.find(Order, { user: userId }, { ...WITHOUT_OWNER, orderBy: { createdAt: 'desc', id: 'desc' }, limit });
  }

  executions(scope: SignedInScope, first: number | null | undefined): Promise<UserExecution[]> {
    return scope.em.find(
      UserExecution,
      { user: scope.actor.id },
      { orderBy: { createdAt: 'desc', id: 'desc' }, limit: pageSize(first, 50), populate: ['order'] },
    );
  }
}
