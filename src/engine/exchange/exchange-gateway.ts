import type Decimal from 'decimal.js';

/**
 * What the engine needs from one user's futures account, whatever the venue.
 * Implementations: BinanceFuturesGateway (the `binance` package) and
 * PaperGateway (a simulated account in PostgreSQL). Quantities and money are
 * Decimal; a position amount is signed (positive long, negative short).
 * Every method throws only ExchangeError subclasses (exchange-errors.ts).
 */
export interface ExchangeGateway {
  readonly venue: 'BINANCE' | 'PAPER';

  getAccount(): Promise<AccountSnapshot>;
  getPosition(symbol: string): Promise<PositionSnapshot>;
  /** Cached per symbol: the exchange's tick, step and min-notional rules. */
  getSymbolFilters(symbol: string): Promise<SymbolFilters>;
  setLeverage(symbol: string, leverage: number): Promise<void>;
  /** One-way mode is required: hedge mode cannot be traded by this engine. */
  getPositionMode(): Promise<'ONE_WAY' | 'HEDGE'>;
  /** What the key may do (Binance: /sapi/v1/account/apiRestrictions). */
  getKeyPermissions(): Promise<KeyPermissions>;

  /** MARKET order, answered with the fill (newOrderRespType=RESULT). */
  placeMarketOrder(request: MarketOrderRequest): Promise<OrderResult>;
  /** The order with this client id, or null when the exchange says it does not exist. */
  getOrder(symbol: string, clientOrderId: string): Promise<OrderResult | null>;
  cancelOrder(symbol: string, clientOrderId: string): Promise<OrderResult | null>;
  getOpenOrders(symbol: string): Promise<OrderResult[]>;
  /** Fills since a time, oldest first (as far back as the venue keeps them: six months on Binance). */
  getUserTrades(symbol: string, sinceMs: number): Promise<TradeFill[]>;
  /** Income history since a time, oldest first (three months on Binance). */
  getIncome(sinceMs: number): Promise<IncomeRecord[]>;

  /** Order and account updates pushed by the venue; keepalive and reconnect are the gateway's job. */
  openUserDataStream(handlers: UserDataHandlers): Promise<UserDataStream>;

  /** The prefix a client order id must start with for this venue (the `binance` package's broker prefix). */
  clientOrderIdPrefix(): string;

  /** Releases sockets and timers. */
  close(): Promise<void>;
}

export interface AccountSnapshot {
  /** Wallet balance + unrealized PnL (margin balance), in the quote asset. */
  equity: Decimal;
  walletBalance: Decimal;
  availableBalance: Decimal;
  unrealizedPnl: Decimal;
}

export interface PositionSnapshot {
  symbol: string;
  /** Signed: > 0 long, < 0 short, 0 flat. */
  positionAmt: Decimal;
  entryPrice: Decimal;
  markPrice: Decimal | null;
  unrealizedPnl: Decimal;
  leverage: number | null;
  /** When the exchange last changed this position (null: unknown, e.g. a paper account): older than a fill we counted means stale. */
  updatedAt?: Date | null;
}

export interface SymbolFilters {
  symbol: string;
  tickSize: Decimal;
  stepSize: Decimal;
  minQty: Decimal;
  maxQty: Decimal;
  minNotional: Decimal;
}

export interface KeyPermissions {
  canRead: boolean;
  canTrade: boolean;
  futuresEnabled: boolean;
  canWithdraw: boolean;
  canTransferInternal: boolean;
  canTransferUniversal: boolean;
  ipRestricted: boolean;
}

export interface MarketOrderRequest {
  symbol: string;
  side: 'BUY' | 'SELL';
  quantity: Decimal;
  clientOrderId: string;
  reduceOnly: boolean;
}

export type ExchangeOrderStatus = 'NEW' | 'PARTIALLY_FILLED' | 'FILLED' | 'CANCELED' | 'REJECTED' | 'EXPIRED';

export interface OrderResult {
  symbol: string;
  exchangeOrderId: string;
  clientOrderId: string;
  side: 'BUY' | 'SELL';
  status: ExchangeOrderStatus;
  quantity: Decimal;
  executedQty: Decimal;
  /** Null until something filled. */
  avgPrice: Decimal | null;
  reduceOnly: boolean;
  updatedAt: Date;
}

export interface TradeFill {
  symbol: string;
  exchangeTradeId: string;
  exchangeOrderId: string;
  side: 'BUY' | 'SELL';
  price: Decimal;
  quantity: Decimal;
  realizedPnl: Decimal;
  commission: Decimal;
  commissionAsset: string;
  time: Date;
}

export interface IncomeRecord {
  symbol: string;
  incomeType: string;
  income: Decimal;
  asset: string;
  time: Date;
  tranId: string;
  /** The fill a REALIZED_PNL or COMMISSION row belongs to. */
  tradeId: string | null;
}

/** ORDER_TRADE_UPDATE, reduced to what we store. */
export interface OrderUpdateEvent {
  eventTime: Date;
  order: OrderResult;
  /** Present when this update is a fill (execution type TRADE). */
  fill: TradeFill | null;
  /** Liquidation / ADL orders carry these client-id prefixes on Binance. */
  isLiquidation: boolean;
}

/** ACCOUNT_UPDATE, reduced to what we store. */
export interface AccountUpdateEvent {
  eventTime: Date;
  reason: string;
  walletBalance: Decimal | null;
  /** Per asset, the balance change other than realized PnL and commission (Binance `bc`): deposits, withdrawals, funding… */
  balanceChanges: Array<{ asset: string; change: Decimal }>;
  positions: PositionSnapshot[];
}

export interface UserDataHandlers {
  onOrderUpdate(event: OrderUpdateEvent): void;
  onAccountUpdate(event: AccountUpdateEvent): void;
  /** The stream dropped (and is reconnecting) or came back: REST is the fallback meanwhile. */
  onStateChange?(state: 'connected' | 'reconnecting' | 'closed'): void;
}

export interface UserDataStream {
  readonly connected: boolean;
  close(): Promise<void>;
}
