import Decimal from 'decimal.js';
import { InvalidOrderError } from '../../../src/engine/exchange/exchange-errors';
import type {
  AccountSnapshot, ExchangeGateway, IncomeRecord, KeyPermissions, MarketOrderRequest, OrderResult, PositionSnapshot, SymbolFilters,
  TradeFill, UserDataStream,
} from '../../../src/engine/exchange/exchange-gateway';

const d = (v: Decimal.Value) => new Decimal(v);

/**
 * An in-memory one-symbol futures account for unit tests of a user's task: it
 * keeps the position, fills MARKET orders at `price` (at most `fillLimit` of
 * one order, the rest expiring, like a thin book) and logs every order.
 */
export class ScriptedVenue implements ExchangeGateway {
  readonly venue = 'BINANCE' as const;
  readonly orders: OrderResult[] = [];
  position = d(0);
  entry = d(0);
  equity = d(10_000);
  price = d(50_000);
  fillLimit: Decimal | null = null;
  filters: SymbolFilters = {
    symbol: 'BTCUSDT', tickSize: d('0.1'), stepSize: d('0.001'), minQty: d('0.001'), maxQty: d('120'), minNotional: d('100'),
  };
  private nextId = 1;

  clientOrderIdPrefix(): string {
    return 'x-15PC4ZJy';
  }

  async getAccount(): Promise<AccountSnapshot> {
    return { equity: this.equity, walletBalance: this.equity, availableBalance: this.equity, unrealizedPnl: d(0) };
  }

  async getPosition(symbol: string): Promise<PositionSnapshot> {
    return { symbol, positionAmt: this.position, entryPrice: this.entry, markPrice: this.price, unrealizedPnl: d(0), leverage: null, updatedAt: new Date() };
  }

  async getSymbolFilters(): Promise<SymbolFilters> {
    return this.filters;
  }

  async placeMarketOrder(request: MarketOrderRequest): Promise<OrderResult> {
    // As the Binance gateway does at the boundary: rounded DOWN to the (market) step, refused below the minimum.
    const quantity = request.quantity.div(this.filters.stepSize).toDecimalPlaces(0, Decimal.ROUND_DOWN).times(this.filters.stepSize);
    if (quantity.isZero() || quantity.lt(this.filters.minQty)) throw new InvalidOrderError(`Quantity ${request.quantity.toFixed()} is below the minimum.`);
    const executed = this.fillLimit ? Decimal.min(this.fillLimit, quantity) : quantity;
    const signed = request.side === 'BUY' ? executed : executed.neg();
    if (this.position.isZero() || this.position.isPositive() === signed.isPositive()) this.entry = this.price;
    this.position = this.position.plus(signed);
    const order: OrderResult = {
      symbol: request.symbol, exchangeOrderId: String(this.nextId++), clientOrderId: request.clientOrderId, side: request.side,
      status: executed.eq(quantity) ? 'FILLED' : 'EXPIRED', quantity, executedQty: executed, avgPrice: this.price,
      reduceOnly: request.reduceOnly, updatedAt: new Date(),
    };
    this.orders.push(order);
    return order;
  }

  async getOrder(_symbol: string, clientOrderId: string): Promise<OrderResult | null> {
    return this.orders.find((o) => o.clientOrderId === clientOrderId) ?? null;
  }

  async setLeverage(): Promise<void> {}
  async getPositionMode(): Promise<'ONE_WAY' | 'HEDGE'> {
    return 'ONE_WAY';
  }
  async getKeyPermissions(): Promise<KeyPermissions> {
    return { canRead: true, canTrade: true, futuresEnabled: true, canWithdraw: false, canTransferInternal: false, canTransferUniversal: false, ipRestricted: false };
  }
  async cancelOrder(): Promise<OrderResult | null> {
    return null;
  }
  async getOpenOrders(): Promise<OrderResult[]> {
    return [];
  }
  async getUserTrades(): Promise<TradeFill[]> {
    return [];
  }
  async getIncome(): Promise<IncomeRecord[]> {
    return [];
  }
  async openUserDataStream(): Promise<UserDataStream> {
    return { connected: false, close: async () => undefined };
  }
  async close(): Promise<void> {}
}
