import { EventEmitter } from 'node:events';
import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import Decimal from 'decimal.js';
import type { Logger } from 'pino';
import { OrderSide, PaperAccount, PaperFill } from '../../entities';
import { ExchangeUnavailableError, InsufficientMarginError, InvalidOrderError } from './exchange-errors';
import type {
  AccountSnapshot, AccountUpdateEvent, ExchangeGateway, IncomeRecord, KeyPermissions, MarketOrderRequest, OrderResult,
  OrderUpdateEvent, PositionSnapshot, SymbolFilters, TradeFill, UserDataHandlers, UserDataStream,
} from './exchange-gateway';

/** Where the paper venue gets its fill price (the market feed's last price). */
export interface PriceSource {
  latestPrice(symbol: string): Decimal | null;
}

/** In-process stand-in for Binance's user-data stream; share one per process so every gateway of a user hears its fills. */
export class PaperUserDataHub {
  private readonly emitter = new EventEmitter().setMaxListeners(0);

  subscribe(userId: string, handlers: UserDataHandlers): () => void {
    const onOrder = (e: OrderUpdateEvent) => handlers.onOrderUpdate(e);
    const onAccount = (e: AccountUpdateEvent) => handlers.onAccountUpdate(e);
    this.emitter.on(`${userId}:order`, onOrder);
    this.emitter.on(`${userId}:account`, onAccount);
    return () => {
      this.emitter.off(`${userId}:order`, onOrder);
      this.emitter.off(`${userId}:account`, onAccount);
    };
  }

  publish(userId: string, order: OrderUpdateEvent, account: AccountUpdateEvent): void {
    this.emitter.emit(`${userId}:order`, order);
    this.emitter.emit(`${userId}:account`, account);
  }
}

export const PAPER_TAKER_FEE = new Decimal('0.0004');
export const PAPER_BTCUSDT_FILTERS: SymbolFilters = {
  symbol: 'BTCUSDT', tickSize: new Decimal('0.1'), stepSize: new Decimal('0.001'), minQty: new Decimal('0.001'),
  maxQty: new Decimal('1000'), minNotional: new Decimal('100'),
};

export interface PaperGatewayOptions {
  /** Root EntityManager; every operation works on its own fork. */
  em: EntityManager;
  userId: string;
  prices: PriceSource;
  logger: Logger;
  startingBalance?: Decimal;
  takerFee?: Decimal;
  filters?: SymbolFilters;
  hub?: PaperUserDataHub;
}

const DP = 10; // numeric(28,10)
const dec = (v: string) => new Decimal(v);
const store = (d: Decimal) => d.toDecimalPlaces(DP).toFixed();

/**
 * A simulated USD-M account (one symbol, one-way, cross margin) whose whole
 * state is in PostgreSQL: one transaction per order with the account row
 * locked, so orders of one user serialise and a client id fills at most once.
 */
export class PaperGateway implements ExchangeGateway {
  readonly venue = 'PAPER' as const;
  private readonly filters: SymbolFilters;
  private readonly fee: Decimal;
  private readonly hub: PaperUserDataHub;
  private readonly unsubscribers = new Set<() => void>();

  constructor(private readonly opts: PaperGatewayOptions) {
    this.filters = opts.filters ?? PAPER_BTCUSDT_FILTERS;
    this.fee = opts.takerFee ?? PAPER_TAKER_FEE;
    this.hub = opts.hub ?? new PaperUserDataHub();
  }

  clientOrderIdPrefix(): string {
    return 'paper-';
  }

  async getAccount(): Promise<AccountSnapshot> {
    const account = await this.load();
    const { unrealized, margin } = this.valuation(account, this.price());
    const wallet = dec(account.walletBalance);
    const equity = wallet.plus(unrealized);
    return { equity, walletBalance: wallet, availableBalance: Decimal.max(0, equity.minus(margin)), unrealizedPnl: unrealized };
  }

  async getPosition(symbol: string): Promise<PositionSnapshot> {
    this.assertSymbol(symbol);
    const account = await this.load();
    const price = this.price();
    return {
      symbol, positionAmt: dec(account.positionAmt), entryPrice: dec(account.entryPrice), markPrice: price,
      unrealizedPnl: this.valuation(account, price).unrealized, leverage: account.leverage,
    };
  }

  async getSymbolFilters(symbol: string): Promise<SymbolFilters> {
    this.assertSymbol(symbol);
    return this.filters;
  }

  async setLeverage(symbol: string, leverage: number): Promise<void> {
    this.assertSymbol(symbol);
    if (!Number.isInteger(leverage) || leverage < 1 || leverage > 125) {
      throw new InvalidOrderError('Leverage must be a whole number from 1 to 125.');
    }
    await this.load();
    await this.opts.em.fork().nativeUpdate(PaperAccount, { user: this.opts.userId }, { leverage }, { filters: { owner: { userId: this.opts.userId } } });
  }

  async getPositionMode(): Promise<'ONE_WAY' | 'HEDGE'> {
    return 'ONE_WAY';
  }

  async getKeyPermissions(): Promise<KeyPermissions> {
    return { canRead: true, canTrade: true, futuresEnabled: true, canWithdraw: false, canTransferInternal: false, canTransferUniversal: false, ipRestricted: false };
  }

  async placeMarketOrder(request: MarketOrderRequest): Promise<OrderResult> {
    this.assertSymbol(request.symbol);
    if (!/^[.A-Z:/a-z0-9_-]{1,36}$/.test(request.clientOrderId)) throw new InvalidOrderError('Client order id is not valid.');
    await this.ensureAccount();
    const userId = this.opts.userId;
    const outcome = await this.opts.em.fork().transactional(async (tx) => {
      const owner = { filters: { owner: { userId } } };
      // The row lock serialises this user's orders: the duplicate check below can't race.
      const account = await tx.findOneOrFail(PaperAccount, { user: userId }, { ...owner, lockMode: LockMode.PESSIMISTIC_WRITE });
      const existing = await tx.findOne(PaperFill, { user: userId, clientOrderId: request.clientOrderId }, owner);
      if (existing) return { fill: existing, account, fresh: false };

      const price = this.price();
      if (!price) throw new ExchangeUnavailableError(`No market price for ${request.symbol} yet; try again shortly.`);
      // Rounded DOWN, explicitly: an order must not exceed what the user's sizing allowed.
      const qty = request.quantity.div(this.filters.stepSize).toDecimalPlaces(0, Decimal.ROUND_DOWN).times(this.filters.stepSize);
      if (qty.lt(this.filters.minQty) || qty.gt(this.filters.maxQty)) throw new InvalidOrderError('Order quantity is outside the symbol\'s allowed range.', -4003);
      if (!request.reduceOnly && qty.times(price).lt(this.filters.minNotional)) {
        throw new InvalidOrderError('Order value is below the minimum notional for this symbol.', -4164);
      }
      const fill = this.execute(account, request, qty, price);
      const orderId = account.nextOrderId;
      account.nextOrderId = new Decimal(orderId).plus(1).toFixed();
      const row = tx.create(PaperFill, {
        user: userId, orderId, clientOrderId: request.clientOrderId, symbol: request.symbol,
        side: request.side === 'BUY' ? OrderSide.BUY : OrderSide.SELL, quantity: store(qty), price: store(price),
        realizedPnl: store(fill.realized), commission: store(fill.commission), reduceOnly: request.reduceOnly, createdAt: new Date(),
      });
      return { fill: row, account, fresh: true };
    });
    const result = fillToOrder(outcome.fill);
    if (outcome.fresh) this.publish(outcome.fill, outcome.account);
    return result;
  }

  async getOrder(symbol: string, clientOrderId: string): Promise<OrderResult | null> {
    const fill = await this.opts.em.fork().findOne(PaperFill, { user: this.opts.userId, symbol, clientOrderId }, { filters: { owner: { userId: this.opts.userId } } });
    return fill ? fillToOrder(fill) : null;
  }

  /** Paper orders fill at once; like Binance for a filled order, there is nothing to cancel. */
  async cancelOrder(): Promise<OrderResult | null> {
    return null;
  }

  async getOpenOrders(): Promise<OrderResult[]> {
    return [];
  }

  async getUserTrades(symbol: string, sinceMs: number): Promise<TradeFill[]> {
    const fills = await this.fills({ symbol, createdAt: { $gte: new Date(sinceMs) } });
    return fills.map(fillToTrade);
  }

  async getIncome(sinceMs: number): Promise<IncomeRecord[]> {
    const fills = await this.fills({ createdAt: { $gte: new Date(sinceMs) } });
    return fills.flatMap((f) => {
      const rows: IncomeRecord[] = [];
      const base = { symbol: f.symbol, asset: 'USDT', time: f.createdAt };
      // A paper order fills as one trade, named by the order id (as fillToTrade does).
      const tradeId = String(f.orderId);
      if (!dec(f.realizedPnl).isZero()) rows.push({ ...base, incomeType: 'REALIZED_PNL', income: dec(f.realizedPnl), tranId: `${f.orderId}-pnl`, tradeId });
      rows.push({ ...base, incomeType: 'COMMISSION', income: dec(f.commission).neg(), tranId: `${f.orderId}-fee`, tradeId });
      return rows;
    });
  }

  async openUserDataStream(handlers: UserDataHandlers): Promise<UserDataStream> {
    let open = true;
    const unsubscribe = this.hub.subscribe(this.opts.userId, handlers);
    this.unsubscribers.add(unsubscribe);
    handlers.onStateChange?.('connected');
    return {
      get connected() { return open; },
      close: async () => {
        if (!open) return;
        open = false;
        unsubscribe();
        this.unsubscribers.delete(unsubscribe);
        handlers.onStateChange?.('closed');
      },
    };
  }

  async close(): Promise<void> {
    for (const unsubscribe of this.unsubscribers) unsubscribe();
    this.unsubscribers.clear();
  }

  /** Applies the fill to the locked account row: weighted entry, realized PnL on reduce/close/flip, fee, margin check. */
  private execute(account: PaperAccount, request: MarketOrderRequest, qty: Decimal, price: Decimal): { realized: Decimal; commission: Decimal } {
    const amt = dec(account.positionAmt);
    const entry = dec(account.entryPrice);
    const signed = request.side === 'BUY' ? qty : qty.neg();
    const opposite = !amt.isZero() && amt.isPositive() !== signed.isPositive();
    const closing = opposite ? Decimal.min(amt.abs(), qty) : new Decimal(0);
    const opening = qty.minus(closing);
    if (request.reduceOnly && opening.gt(0)) {
      throw new InvalidOrderError('Reduce-only order rejected: there is no position in that direction to reduce.', -2022);
    }
    const commission = qty.times(price).times(this.fee);
    if (opening.gt(0)) {
      const { unrealized, margin } = this.valuation(account, price);
      const available = dec(account.walletBalance).plus(unrealized).minus(margin);
      const freed = closing.times(price).div(account.leverage);
      const needed = opening.times(price).div(account.leverage).plus(commission);
      if (needed.gt(available.plus(freed))) throw new InsufficientMarginError('Not enough available margin on the paper account for this order.', -2019);
    }
    const realized = closing.times(price.minus(entry)).times(amt.isPositive() ? 1 : -1);
    const after = amt.plus(signed);
    let newEntry: Decimal;
    if (after.isZero()) newEntry = new Decimal(0);
    else if (!opposite) newEntry = amt.abs().times(entry).plus(qty.times(price)).div(after.abs());
    else if (after.isPositive() !== amt.isPositive()) newEntry = price; // flipped: the remainder opened at this price
    else newEntry = entry;
    account.positionAmt = store(after);
    account.entryPrice = store(newEntry);
    account.walletBalance = store(dec(account.walletBalance).plus(realized).minus(commission));
    return { realized, commission };
  }

  private valuation(account: PaperAccount, price: Decimal | null): { unrealized: Decimal; margin: Decimal } {
    const amt = dec(account.positionAmt);
    const mark = price ?? dec(account.entryPrice);
    return { unrealized: amt.times(mark.minus(dec(account.entryPrice))), margin: amt.abs().times(mark).div(account.leverage) };
  }

  private price(): Decimal | null {
    return this.opts.prices.latestPrice(this.filters.symbol);
  }

  private assertSymbol(symbol: string): void {
    if (symbol !== this.filters.symbol) throw new InvalidOrderError(`Paper accounts trade only ${this.filters.symbol}.`);
  }

  private async load(): Promise<PaperAccount> {
    await this.ensureAccount();
    return this.opts.em.fork().findOneOrFail(PaperAccount, { user: this.opts.userId }, { filters: { owner: { userId: this.opts.userId } } });
  }

  /** First use opens the account with the starting balance; concurrent first uses can't create two. */
  private async ensureAccount(): Promise<void> {
    await this.opts.em.fork().getConnection().execute(
      `insert into paper_accounts (user_id, wallet_balance, position_amt, entry_price, symbol, leverage, next_order_id, updated_at)
       values (?, ?, 0, 0, ?, 1, 1, now()) on conflict (user_id) do nothing`,
      [this.opts.userId, store(this.opts.startingBalance ?? new Decimal(10_000)), this.filters.symbol],
    );
  }

  private fills(where: Record<string, unknown>): Promise<PaperFill[]> {
    return this.opts.em.fork().find(PaperFill, { user: this.opts.userId, ...where }, {
      filters: { owner: { userId: this.opts.userId } }, orderBy: { createdAt: 'asc', orderId: 'asc' },
    });
  }

  private publish(fill: PaperFill, account: PaperAccount): void {
    const now = new Date();
    const order: OrderUpdateEvent = { eventTime: now, order: fillToOrder(fill), fill: fillToTrade(fill), isLiquidation: false };
    const accountEvent: AccountUpdateEvent = {
      eventTime: now, reason: 'ORDER', walletBalance: dec(account.walletBalance), balanceChanges: [],
      positions: [{
        symbol: account.symbol, positionAmt: dec(account.positionAmt), entryPrice: dec(account.entryPrice),
        markPrice: dec(fill.price), unrealizedPnl: dec(account.positionAmt).times(dec(fill.price).minus(dec(account.entryPrice))),
        leverage: account.leverage, updatedAt: now,
      }],
    };
    try {
      this.hub.publish(this.opts.userId, order, accountEvent);
    } catch (err) {
      // The fill is committed; a faulty listener must not turn it into an error for the caller.
      this.opts.logger.error({ err: err instanceof Error ? err.message : String(err) }, 'paper user-data listener failed');
    }
  }
}

function fillToOrder(f: PaperFill): OrderResult {
  return {
    symbol: f.symbol, exchangeOrderId: String(f.orderId), clientOrderId: f.clientOrderId, side: f.side, status: 'FILLED',
    quantity: dec(f.quantity), executedQty: dec(f.quantity), avgPrice: dec(f.price), reduceOnly: f.reduceOnly, updatedAt: f.createdAt,
  };
}

function fillToTrade(f: PaperFill): TradeFill {
  return {
    symbol: f.symbol, exchangeTradeId: String(f.orderId), exchangeOrderId: String(f.orderId), side: f.side, price: dec(f.price),
    quantity: dec(f.quantity), realizedPnl: dec(f.realizedPnl), commission: dec(f.commission), commissionAsset: 'USDT', time: f.createdAt,
  };
}
