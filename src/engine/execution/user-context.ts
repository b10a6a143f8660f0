import Decimal from 'decimal.js';
import type { Logger } from 'pino';
import type { Exchange } from '../../entities/enums';
import type { UserExchangeConfig } from '../../entities/user-exchange-config.entity';
import type { GatewayOpener } from '../exchange/gateway-opener';
import type { AccountSnapshot, AccountUpdateEvent, ExchangeGateway } from '../exchange/exchange-gateway';

/** One user's trading state as the engine needs it, cached between signals. */
export interface UserContext {
  userId: string;
  exchange: Exchange;
  leverage: number;
  maxPositionPct: Decimal;
  gateway: ExchangeGateway;
  /** Config version this context was built from: a changed config rebuilds it. */
  configStamp: string;
  account: { snapshot: AccountSnapshot; at: number } | null;
}

const stampOf = (config: UserExchangeConfig) => `${config.id}:${config.updatedAt.getTime()}:${config.exchange}`;

/**
 * Contexts are built once per user and reused, so a signal costs no key
 * decryption and no client construction; they are dropped when the user's
 * config, plan, status or risk changes (USER_CHANGED on the bus, any node).
 */
export class UserContextCache {
  private readonly contexts = new Map<string, Promise<UserContext>>();

  constructor(
    private readonly deps: { opener: GatewayOpener; logger: Logger; accountMaxAgeMs: number; now?: () => number },
  ) {}

  private now(): number {
    return this.deps.now?.() ?? Date.now();
  }

  get(config: UserExchangeConfig): Promise<UserContext> {
    const userId = config.user.id;
    const cached = this.contexts.get(userId);
    if (cached) {
      return cached.then((ctx) => {
        if (ctx.configStamp === stampOf(config)) return ctx;
        this.invalidate(userId);
        return this.get(config);
      });
    }
    const building = this.deps.opener.open(config, userId).then(
      (gateway): UserContext => ({
        userId,
        exchange: config.exchange,
        leverage: config.leverage,
        maxPositionPct: new Decimal(config.maxPositionPct),
        gateway,
        configStamp: stampOf(config),
        account: null,
      }),
    );
    this.contexts.set(userId, building);
    building.catch(() => this.contexts.delete(userId));
    return building;
  }

  /** The account snapshot: the stream's or the last fill's when fresh, otherwise one REST read. */
  async account(ctx: UserContext): Promise<AccountSnapshot> {
    if (ctx.account && this.now() - ctx.account.at <= this.deps.accountMaxAgeMs) return ctx.account.snapshot;
    const snapshot = await ctx.gateway.getAccount();
    ctx.account = { snapshot, at: this.now() };
    return snapshot;
  }

  noteAccount(userId: string, snapshot: AccountSnapshot | null): void {
    void this.contexts.get(userId)?.then((ctx) => {
      ctx.account = snapshot ? { snapshot, at: this.now() } : null;
    }, () => undefined);
  }

  /**
   * ACCOUNT_UPDATE from the user-data stream: equity is the new wallet balance
   * plus the positions' unrealized PnL, so the next signal sizes from it without
   * a REST read (at 1,000 users a read each would spend the IP's weight budget).
   * Without a wallet figure, or without a snapshot to carry the rest over, the
   * cache is dropped and the next signal reads over REST.
   */
  noteAccountUpdate(userId: string, event: AccountUpdateEvent): void {
    void this.contexts.get(userId)?.then((ctx) => {
      if (!event.walletBalance || !ctx.account) {
        ctx.account = null;
        return;
      }
      const unrealizedPnl = event.positions.reduce((sum, p) => sum.plus(p.unrealizedPnl), new Decimal(0));
      ctx.account = {
        snapshot: { ...ctx.account.snapshot, walletBalance: event.walletBalance, unrealizedPnl, equity: event.walletBalance.plus(unrealizedPnl) },
        at: this.now(),
      };
    }, () => undefined);
  }

  invalidate(userId: string): void {
    const ctx = this.contexts.get(userId);
    if (!ctx) return;
    this.contexts.delete(userId);
    ctx.then((c) => c.gateway.close()).catch((err) => this.deps.logger.warn({ userId, err: (err as Error).message }, 'closing a gateway failed'));
  }

  async closeAll(): Promise<void> {
    const all = [...this.contexts.values()];
    this.contexts.clear();
    await Promise.allSettled(all.map((p) => p.then((c) => c.gateway.close())));
  }
}
