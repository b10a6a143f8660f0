import { randomBytes } from 'node:crypto';
import Decimal from 'decimal.js';

/** Binance's `{code,msg}` refusal, with the HTTP status the fake answers it with. */
export class BinanceReject extends Error {
  constructor(readonly status: number, readonly code: number, msg: string) {
    super(msg);
  }
}

export interface ApiRestrictions {
  ipRestrict: boolean;
  enableReading: boolean;
  enableFutures: boolean;
  enableWithdrawals: boolean;
  enableInternalTransfer: boolean;
  permitsUniversalTransfer: boolean;
  enableMargin: boolean;
  enableSpotAndMarginTrading: boolean;
  enableVanillaOptions: boolean;
  enablePortfolioMarginTrading: boolean;
}

export const DEFAULT_PERMISSIONS: ApiRestrictions = {
  ipRestrict: false,
  enableReading: true,
  enableFutures: true,
  enableWithdrawals: false,
  enableInternalTransfer: false,
  permitsUniversalTransfer: false,
  enableMargin: false,
  enableSpotAndMarginTrading: false,
  enableVanillaOptions: false,
  enablePortfolioMarginTrading: false,
};

export interface SymbolRules {
  symbol: string;
  tickSize: string;
  stepSize: string;
  minQty: string;
  maxQty: string;
  minNotional: string;
  /** MARKET_LOT_SIZE, which Binance checks MARKET orders against as well (default: LOT_SIZE's step and minimum, at most 120). */
  market?: { stepSize: string; minQty: string; maxQty: string };
}

/** The MARKET_LOT_SIZE filter the exchange serves and enforces for a symbol. */
export const marketLotOf = (r: SymbolRules) => r.market ?? { stepSize: r.stepSize, minQty: r.minQty, maxQty: '120' };

export const BTCUSDT_RULES: SymbolRules = {
  symbol: 'BTCUSDT', tickSize: '0.10', stepSize: '0.001', minQty: '0.001', maxQty: '1000', minNotional: '100',
};

export const TAKER_FEE = new Decimal('0.0004');

export interface FakePosition {
  amt: Decimal;
  entry: Decimal;
  /** When the position last changed (positionRisk's updateTime). */
  updateTime?: number;
}

export interface FakeOrder {
  orderId: number;
  clientOrderId: string;
  symbol: string;
  side: 'BUY' | 'SELL';
  type: 'MARKET' | 'LIMIT';
  origQty: Decimal;
  price: Decimal;
  executedQty: Decimal;
  cumQuote: Decimal;
  status: 'NEW' | 'PARTIALLY_FILLED' | 'FILLED' | 'CANCELED' | 'EXPIRED';
  reduceOnly: boolean;
  positionSide: string;
  timeInForce: string;
  time: number;
  updateTime: number;
}

export interface FakeTrade {
  id: number;
  orderId: number;
  symbol: string;
  side: 'BUY' | 'SELL';
  price: Decimal;
  qty: Decimal;
  realizedPnl: Decimal;
  commission: Decimal;
  commissionAsset: string;
  positionSide: string;
  time: number;
}

export interface FakeIncome {
  symbol: string;
  incomeType: 'REALIZED_PNL' | 'COMMISSION' | 'TRANSFER' | 'FUNDING_FEE' | string;
  income: Decimal;
  asset: string;
  time: number;
  tranId: number;
  tradeId: string;
}

export interface AddAccountOptions {
  apiKey: string;
  apiSecret: string;
  /** USDT wallet balance. */
  balance: string | number | Decimal;
  permissions?: Partial<ApiRestrictions>;
  hedgeMode?: boolean;
  /** Initial leverage for every symbol (Binance's default is 20). */
  leverage?: number;
}

export class FakeAccount {
  readonly apiKey: string;
  readonly apiSecret: string;
  wallet: Decimal;
  permissions: ApiRestrictions;
  hedgeMode: boolean;
  revoked = false;
  readonly leverage = new Map<string, number>();
  readonly defaultLeverage: number;
  readonly positions = new Map<string, FakePosition>();
  readonly orders: FakeOrder[] = [];
  readonly trades: FakeTrade[] = [];
  readonly income: FakeIncome[] = [];
  listenKey: string | null = null;
  /** A MARKET order fills in this many trades (the last one completes it). */
  fillParts = 1;
  /** A MARKET order fills at most this much; the rest expires (thin book). */
  marketFillLimit: Decimal | null = null;
  /** Commission paid in this asset (BNB: valued at `commissionAssetPrice` USDT). */
  commissionAsset = 'USDT';
  commissionAssetPrice = new Decimal(1);
  /** Stream messages to this account are dropped (a stream that silently missed them). */
  streamMuted = false;

  constructor(opts: AddAccountOptions) {
    this.apiKey = opts.apiKey;
    this.apiSecret = opts.apiSecret;
    this.wallet = new Decimal(opts.balance.toString());
    this.permissions = { ...DEFAULT_PERMISSIONS, ...opts.permissions };
    this.hedgeMode = opts.hedgeMode ?? false;
    this.defaultLeverage = opts.leverage ?? 20;
  }

  leverageOf(symbol: string): number {
    return this.leverage.get(symbol) ?? this.defaultLeverage;
  }

  position(symbol: string): FakePosition {
    return this.positions.get(symbol) ?? { amt: new Decimal(0), entry: new Decimal(0) };
  }

  findOrder(symbol: string, orderId?: string, clientOrderId?: string): FakeOrder | undefined {
    return this.orders.find(
      (o) => o.symbol === symbol && (orderId ? String(o.orderId) === orderId : o.clientOrderId === clientOrderId),
    );
  }
}

/** What a fill changed, for the user-data events: the order as each trade left it, and the trades. */
export interface FillOutcome {
  order: FakeOrder;
  trades: Array<{ trade: FakeTrade; order: FakeOrder }>;
}

/**
 * The exchange's books: accounts keyed by API key, one mark price per symbol,
 * fills at the mark price as taker. No order book: MARKET fills at once,
 * LIMIT rests until `setPrice` crosses it.
 */
export class FakeExchangeState {
  readonly accounts = new Map<string, FakeAccount>();
  readonly prices = new Map<string, Decimal>();
  readonly rules = new Map<string, SymbolRules>([[BTCUSDT_RULES.symbol, BTCUSDT_RULES]]);
  /** Refuse a client id already used by any order (not only open ones), when the test wants that stricter exchange. */
  rejectAnyDuplicateClientId = false;
  private nextOrderId = 1_000_000;
  private nextTradeId = 5_000_000;
  private nextTranId = 9_000_000;

  constructor(private readonly now: () => number) {
    this.prices.set('BTCUSDT', new Decimal(50_000));
  }

  addAccount(opts: AddAccountOptions): FakeAccount {
    const account = new FakeAccount(opts);
    this.accounts.set(opts.apiKey, account);
    return account;
  }

  price(symbol: string): Decimal {
    const price = this.prices.get(symbol);
    if (!price) throw new BinanceReject(400, -1121, 'Invalid symbol.');
    return price;
  }

  rulesFor(symbol: string): SymbolRules {
    const rules = this.rules.get(symbol);
    if (!rules) throw new BinanceReject(400, -1121, 'Invalid symbol.');
    return rules;
  }

  unrealized(account: FakeAccount): Decimal {
    let total = new Decimal(0);
    for (const [symbol, pos] of account.positions) total = total.plus(pos.amt.times(this.price(symbol).minus(pos.entry)));
    return total;
  }

  initialMargin(account: FakeAccount): Decimal {
    let total = new Decimal(0);
    for (const [symbol, pos] of account.positions) {
      total = total.plus(pos.amt.abs().times(this.price(symbol)).div(account.leverageOf(symbol)));
    }
    return total;
  }

  available(account: FakeAccount): Decimal {
    return Decimal.max(0, account.wallet.plus(this.unrealized(account)).minus(this.initialMargin(account)));
  }

  setLeverage(account: FakeAccount, symbol: string, leverage: number): void {
    this.rulesFor(symbol);
    if (!Number.isInteger(leverage) || leverage < 1 || leverage > 125) {
      throw new BinanceReject(400, -4028, `Leverage ${leverage} is not valid`);
    }
    account.leverage.set(symbol, leverage);
  }

  placeOrder(
    account: FakeAccount,
    p: { symbol: string; side: string; type: string; quantity?: string; price?: string; timeInForce?: string;
      reduceOnly?: string; newClientOrderId?: string; positionSide?: string },
  ): { order: FakeOrder; fill: FillOutcome | null } {
    const rules = this.rulesFor(p.symbol);
    if (p.side !== 'BUY' && p.side !== 'SELL') throw new BinanceReject(400, -1117, 'Invalid side.');
    if (['STOP_MARKET', 'TAKE_PROFIT_MARKET', 'STOP', 'TAKE_PROFIT', 'TRAILING_STOP_MARKET'].includes(p.type)) {
      throw new BinanceReject(400, -4120, 'Order type not supported for this endpoint. Please use the Algo Order API endpoints instead.');
    }
    if (p.type !== 'MARKET' && p.type !== 'LIMIT') throw new BinanceReject(400, -1116, 'Invalid orderType.');
    if (account.hedgeMode && (!p.positionSide || p.positionSide === 'BOTH')) {
      throw new BinanceReject(400, -4061, "Order's position side does not match user's setting.");
    }
    if (!p.quantity) throw new BinanceReject(400, -1102, "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed.");
    const clientOrderId = p.newClientOrderId ?? `fake${randomBytes(8).toString('hex')}`;
    if (!/^[.A-Z:/a-z0-9_-]{1,36}$/.test(clientOrderId)) {
      throw new BinanceReject(400, -4015, 'Client order id is not valid.');
    }
    const duplicate = account.orders.find(
      (o) => o.clientOrderId === clientOrderId && (this.rejectAnyDuplicateClientId || o.status === 'NEW' || o.status === 'PARTIALLY_FILLED'),
    );
    if (duplicate) throw new BinanceReject(400, -4116, 'ClientOrderId is duplicated.');

    const qty = new Decimal(p.quantity);
    if (qty.lte(0)) throw new BinanceReject(400, -4003, 'Quantity less than or equal to zero.');
    if (!qty.mod(rules.stepSize).isZero()) {
      throw new BinanceReject(400, -1111, 'Precision is over the maximum defined for this asset.');
    }
    if (qty.lt(rules.minQty)) throw new BinanceReject(400, -4003, 'Quantity less than or equal to zero.');
    if (qty.gt(rules.maxQty)) throw new BinanceReject(400, -4005, 'Quantity greater than max quantity.');
    if (p.type === 'MARKET') {
      const market = marketLotOf(rules);
      if (!qty.mod(market.stepSize).isZero()) throw new BinanceReject(400, -1111, 'Precision is over the maximum defined for this asset.');
      if (qty.lt(market.minQty)) throw new BinanceReject(400, -4003, 'Quantity less than or equal to zero.');
      if (qty.gt(market.maxQty)) throw new BinanceReject(400, -4005, 'Quantity greater than max quantity.');
    }
    const mark = this.price(p.symbol);
    let limitPrice = mark;
    if (p.type === 'LIMIT') {
      if (!p.price) throw new BinanceReject(400, -1102, "Mandatory parameter 'price' was not sent, was empty/null, or malformed.");
      limitPrice = new Decimal(p.price);
      if (!limitPrice.mod(rules.tickSize).isZero()) {
        throw new BinanceReject(400, -1111, 'Precision is over the maximum defined for this asset.');
      }
    }
    const reduceOnly = p.reduceOnly === 'true';
    if (!reduceOnly && qty.times(limitPrice).lt(rules.minNotional)) {
      throw new BinanceReject(400, -4164, `Order's notional must be no smaller than ${rules.minNotional} (unless you choose reduce only).`);
    }
    const signed = p.side === 'BUY' ? qty : qty.neg();
    this.checkReduceAndMargin(account, p.symbol, signed, mark, reduceOnly);

    const now = this.now();
    const order: FakeOrder = {
      orderId: this.nextOrderId++, clientOrderId, symbol: p.symbol, side: p.side, type: p.type, origQty: qty,
      price: p.type === 'LIMIT' ? limitPrice : new Decimal(0), executedQty: new Decimal(0), cumQuote: new Decimal(0),
      status: 'NEW', reduceOnly, positionSide: p.positionSide ?? 'BOTH', timeInForce: p.timeInForce ?? 'GTC',
      time: now, updateTime: now,
    };
    account.orders.push(order);
    const crosses = p.type === 'MARKET' || (p.side === 'BUY' ? mark.lte(limitPrice) : mark.gte(limitPrice));
    return { order, fill: crosses ? this.fill(account, order, mark) : null };
  }

  /** -2022 when a reduce-only order would open or grow a position, -2019 when the opening part needs more margin than is free. */
  private checkReduceAndMargin(account: FakeAccount, symbol: string, signed: Decimal, price: Decimal, reduceOnly: boolean): void {
    const pos = account.position(symbol);
    const opposite = !pos.amt.isZero() && pos.amt.isPositive() !== signed.isPositive();
    const closing = opposite ? Decimal.min(pos.amt.abs(), signed.abs()) : new Decimal(0);
    const opening = signed.abs().minus(closing);
    if (reduceOnly && opening.gt(0)) throw new BinanceReject(400, -2022, 'ReduceOnly Order is rejected.');
    if (opening.isZero()) return;
    const leverage = account.leverageOf(symbol);
    const freed = closing.times(price).div(leverage);
    const needed = opening.times(price).div(leverage).plus(opening.times(price).times(TAKER_FEE));
    if (needed.gt(this.available(account).plus(freed))) {
      throw new BinanceReject(400, -2019, 'Margin is insufficient.');
    }
  }

  private fill(account: FakeAccount, order: FakeOrder, price: Decimal): FillOutcome {
    const rules = this.rulesFor(order.symbol);
    const fillable = order.type === 'MARKET' && account.marketFillLimit ? Decimal.min(order.origQty, account.marketFillLimit) : order.origQty;
    const trades: FillOutcome['trades'] = [];
    if (fillable.isZero()) {
      // Nothing on the book at all: the market order expires without a trade.
      order.status = 'EXPIRED';
      order.updateTime = this.now();
      return { order, trades };
    }
    const parts = splitQuantity(fillable, order.type === 'MARKET' ? account.fillParts : 1, new Decimal(rules.stepSize));
    for (const [i, qty] of parts.entries()) {
      const trade = this.fillPart(account, order, price, qty);
      const last = i === parts.length - 1;
      order.status = last ? (order.executedQty.eq(order.origQty) ? 'FILLED' : 'EXPIRED') : 'PARTIALLY_FILLED';
      trades.push({ trade, order: { ...order } });
    }
    return { order, trades };
  }

  /** One trade of an order: position, wallet, commission and income move by it. */
  private fillPart(account: FakeAccount, order: FakeOrder, price: Decimal, qty: Decimal): FakeTrade {
    const signed = order.side === 'BUY' ? qty : qty.neg();
    const pos = account.position(order.symbol);
    let realized = new Decimal(0);
    let amt = pos.amt;
    let entry = pos.entry;
    if (!amt.isZero() && amt.isPositive() !== signed.isPositive()) {
      const closing = Decimal.min(amt.abs(), signed.abs());
      realized = closing.times(price.minus(entry)).times(amt.isPositive() ? 1 : -1);
      const after = amt.plus(signed);
      if (after.isZero()) entry = new Decimal(0);
      else if (after.isPositive() !== amt.isPositive()) entry = price;
      amt = after;
    } else {
      const after = amt.plus(signed);
      entry = amt.abs().times(entry).plus(signed.abs().times(price)).div(after.abs());
      amt = after;
    }
    const commissionUsdt = qty.times(price).times(TAKER_FEE);
    const commission = account.commissionAsset === 'USDT' ? commissionUsdt : commissionUsdt.div(account.commissionAssetPrice).toDecimalPlaces(8);
    // Commission paid in another asset does not come out of the USDT wallet.
    account.wallet = account.wallet.plus(realized).minus(account.commissionAsset === 'USDT' ? commission : 0);
    const now = this.now();
    if (amt.isZero()) account.positions.delete(order.symbol);
    else account.positions.set(order.symbol, { amt, entry, updateTime: now });

    order.cumQuote = order.cumQuote.plus(qty.times(price));
    order.executedQty = order.executedQty.plus(qty);
    order.updateTime = now;
    const trade: FakeTrade = {
      id: this.nextTradeId++, orderId: order.orderId, symbol: order.symbol, side: order.side, price, qty,
      realizedPnl: realized, commission, commissionAsset: account.commissionAsset, positionSide: order.positionSide, time: now,
    };
    account.trades.push(trade);
    const tradeId = String(trade.id);
    if (!realized.isZero()) {
      account.income.push({ symbol: order.symbol, incomeType: 'REALIZED_PNL', income: realized, asset: 'USDT', time: now, tranId: this.nextTranId++, tradeId });
    }
    account.income.push({
      symbol: order.symbol, incomeType: 'COMMISSION', income: commission.neg(), asset: account.commissionAsset, time: now, tranId: this.nextTranId++, tradeId,
    });
    return trade;
  }

  /** Money in or out of the futures wallet (a deposit, a withdrawal, a funding payment). */
  moveMoney(account: FakeAccount, amount: Decimal, incomeType: string, symbol = ''): FakeIncome {
    const now = this.now();
    account.wallet = account.wallet.plus(amount);
    const income: FakeIncome = { symbol, incomeType, income: amount, asset: 'USDT', time: now, tranId: this.nextTranId++, tradeId: '' };
    account.income.push(income);
    return income;
  }

  cancel(account: FakeAccount, order: FakeOrder): FakeOrder {
    if (order.status !== 'NEW' && order.status !== 'PARTIALLY_FILLED') throw new BinanceReject(400, -2011, 'Unknown order sent.');
    order.status = 'CANCELED';
    order.updateTime = this.now();
    return order;
  }

  /** New mark price; resting LIMIT orders it crosses fill at it. */
  setPrice(symbol: string, price: Decimal): Array<{ account: FakeAccount; fill: FillOutcome }> {
    this.prices.set(symbol, price);
    const fills: Array<{ account: FakeAccount; fill: FillOutcome }> = [];
    for (const account of this.accounts.values()) {
      for (const order of account.orders) {
        if (order.status !== 'NEW' || order.symbol !== symbol) continue;
        const crosses = order.side === 'BUY' ? price.lte(order.price) : price.gte(order.price);
        if (crosses) fills.push({ account, fill: this.fill(account, order, price) });
      }
    }
    return fills;
  }
}

/** `qty` in `parts` trades on the step (the last takes the remainder); fewer when the quantity has fewer steps. */
function splitQuantity(qty: Decimal, parts: number, step: Decimal): Decimal[] {
  const steps = qty.div(step).toDecimalPlaces(0, Decimal.ROUND_DOWN);
  const n = Math.max(1, Math.min(parts, steps.toNumber()));
  if (n === 1) return [qty];
  const each = steps.div(n).toDecimalPlaces(0, Decimal.ROUND_DOWN).times(step);
  return [...Array.from({ length: n - 1 }, () => each), qty.minus(each.times(n - 1))];
}
