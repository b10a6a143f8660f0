import type { MikroORM } from '@mikro-orm/postgresql';
import pLimit from 'p-limit';
import type { Logger } from 'pino';
import { ExecutionStatus, OrderOrigin, OrderStatus } from '../entities/enums';
import { Order } from '../entities/order.entity';
import { OWNER_FILTER, WITHOUT_OWNER } from '../entities/owner-filter';
import { Trade } from '../entities/trade.entity';
import { UserExchangeConfig } from '../entities/user-exchange-config.entity';
import { UserExecution } from '../entities/user-execution.entity';
import type { AccountStore } from './account-store';
import type { RiskService } from './risk/risk.service';
import type { EngineMetrics } from './metrics-port';
import type { UserContextCache } from './user-context';

const OPEN_STATES = [OrderStatus.PENDING, OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED];
/** A PENDING order the exchange has never heard of is only declared failed once any request in flight must be dead. */
const ABSENT_AFTER_MS = 60_000;
const TRADE_LOOKBACK_MS = 24 * 60 * 60 * 1000;

export interface ReconcileSummary {
  users: number;
  ordersSettled: number;
  tradesAdded: number;
  failures: number;
}

/**
 * At start and periodically: compares each account on the exchange with our
 * records and writes down what happened while we were not looking (fills of
 * orders whose outcome was unknown, liquidations, manual trades, positions
 * changed), so `me.positions` and `me.orders` never lie.
 */
export class Reconciler {
  constructor(
    private readonly deps: {
      orm: MikroORM;
      contexts: UserContextCache;
      store: AccountStore;
      risk: RiskService;
      symbol: string;
      logger: Logger;
      concurrency?: number;
      metrics?: EngineMetrics;
    },
  ) {}

  async reconcileAll(): Promise<ReconcileSummary> {
    const started = Date.now();
    const configs = await this.deps.orm.em.fork().find(UserExchangeConfig, {}, { ...WITHOUT_OWNER, populate: ['user', 'apiKeyEnc', 'apiSecretEnc'] });
    const limit = pLimit(this.deps.concurrency ?? 8);
    const summary: ReconcileSummary = { users: configs.length, ordersSettled: 0, tradesAdded: 0, failures: 0 };
    await Promise.all(
      configs.map((config) =>
        limit(async () => {
          try {
            const r = await this.reconcileUser(config);
            summary.ordersSettled += r.ordersSettled;
            summary.tradesAdded += r.tradesAdded;
          } catch (err) {
            summary.failures += 1;
            this.deps.logger.warn({ userId: config.user.id, err: (err as Error).message }, 'reconciling one account failed');
          }
        }),
      ),
    );
    this.deps.logger.info(summary, 'reconciliation done');
    this.deps.metrics?.reconciled(Date.now() - started, summary.ordersSettled + summary.tradesAdded);
    return summary;
  }

  async reconcileUser(config: UserExchangeConfig): Promise<{ ordersSettled: number; tradesAdded: number }> {
    const userId = config.user.id;
    const { symbol, store } = this.deps;
    const ctx = await this.deps.contexts.get(config);
    const gateway = ctx.gateway;
    const em = this.deps.orm.em.fork();
    em.setFilterParams(OWNER_FILTER, { userId });

    let ordersSettled = 0;
    let claim = false;
    const open = await em.find(Order, { user: userId, status: { $in: OPEN_STATES } });
    for (const order of open) {
      const result = await gateway.getOrder(order.symbol, order.clientOrderId);
      if (!result && Date.now() - order.createdAt.getTime() < ABSENT_AFTER_MS) continue;
      if (result && result.status === order.status && result.executedQty.eq(order.executedQty)) continue;
      const settled = await store.settleOrder(userId, order, result, 'the exchange has no such order: it was never placed');
      ordersSettled += 1;
      // An engine order that opened a position while we were away makes that position the strategy's.
      if (settled.origin !== OrderOrigin.EXTERNAL && !settled.reduceOnly && settled.status === OrderStatus.FILLED) claim = true;
      // The signal's outcome recorded as unknown becomes what really happened.
      await em.nativeUpdate(
        UserExecution,
        { order: order.id, user: userId, status: ExecutionStatus.FAILED },
        settled.status === OrderStatus.FILLED || settled.status === OrderStatus.PARTIALLY_FILLED
          ? { status: ExecutionStatus.PLACED, reason: 'settled by the reconciler', fillPrice: settled.avgPrice }
          : { reason: settled.error ?? `order ${settled.status.toLowerCase()}` },
      );
    }

    const position = await gateway.getPosition(symbol);
    await store.applyPositions(userId, [position], 'RECONCILE');
    if (claim) await store.claimForStrategy(userId, symbol);

    const last = await em.findOne(Trade, { user: userId, symbol }, { orderBy: { executedAt: 'desc' } });
    const since = Math.max(Date.now() - TRADE_LOOKBACK_MS, last ? last.executedAt.getTime() : 0);
    const tradesAdded = await store.recordTrades(userId, await gateway.getUserTrades(symbol, since));

    const account = await gateway.getAccount();
    this.deps.contexts.noteAccount(userId, account);
    await store.snapshotBalance(userId, account, 'RECONCILE');
    await this.deps.risk.assess(userId, account.equity);
    return { ordersSettled, tradesAdded };
  }
}
