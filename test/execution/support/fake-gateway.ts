import Decimal from 'decimal.js';
import type {
  AccountSnapshot,
  ExchangeGateway,
  IncomeRecord,
  KeyPermissions,
  MarketOrderRequest,
  OrderResult,
  PositionSnapshot,
  SymbolFilters,
  TradeFill,
  UserDataStream,
} from '../../../src/engine/exchange/exchange-gateway';
import type { VirtualClock } from './virtual-clock';

/** What the fake does with one send: fill it, or throw (after optionally executing it, as a lost reply would). */
export type SendScript = { fill: true; status?: OrderResult['status']; latencyMs?: number } | { throw: Error; executed?: boolean; latencyMs?: number };
export type LookupScript = 'answer' | Error;

export type GatewayCall = { method: 'placeMarketOrder' | 'getOrder'; at: number; clientOrderId: string };

const notUsed = (method: string) => () => Promise.reject(new Error(`FakeGateway.${method} is not used by these tests`));

/**
 * In-memory venue for unit tests of the placement state machine: sends and
 * lookups follow scripts, every call is logged with its virtual time, and the
 * "exchange" keeps the orders that executed.
 */
export class FakeGateway implements ExchangeGateway {
  readonly venue = 'PAPER' as const;
  readonly calls: GatewayCall[] = [];
  readonly orders = new Map<string, OrderResult>();
  private nextOrderId = 1000;

  constructor(
    private readonly clock: VirtualClock,
    private readonly sends: SendScript[],
    private readonly lookups: LookupScript[] = [],
    private readonly fillPrice = new Decimal('65000.10'),
  ) {}

  get sendCount(): number {
    return this.calls.filter((c) => c.method === 'placeMarketOrder').length;
  }

  async placeMarketOrder(request: MarketOrderRequest): Promise<OrderResult> {
    this.calls.push({ method: 'placeMarketOrder', at: this.clock.now(), clientOrderId: request.clientOrderId });
    const script = this.sends.shift();
    if (!script) throw new Error('FakeGateway: no send scripted');
    if (script.latencyMs) await this.clock.sleep(script.latencyMs);
    if ('fill' in script) return this.execute(request, script.status);
    if (script.executed) this.execute(request);
    throw script.throw;
  }

  async getOrder(_symbol: string, clientOrderId: string): Promise<OrderResult | null> {
    this.calls.push({ method: 'getOrder', at: this.clock.now(), clientOrderId });
    const script = this.lookups.shift() ?? 'answer';
    if (script instanceof Error) throw script;
    return this.orders.get(clientOrderId) ?? null;
  }

  /** Puts an order on the "exchange" as if it had been executed earlier. */
  execute(request: MarketOrderRequest, status: OrderResult['status'] = 'FILLED'): OrderResult {
    const filled = status === 'FILLED';
    const order: OrderResult = {
      symbol: request.symbol,
      exchangeOrderId: String(this.nextOrderId++),
      clientOrderId: request.clientOrderId,
      side: request.side,
      status,
      quantity: request.quantity,
      executedQty: filled ? request.quantity : new Decimal(0),
      avgPrice: filled ? this.fillPrice : null,
      reduceOnly: request.reduceOnly,
      updatedAt: new Date(this.clock.now()),
    };
    this.orders.set(request.clientOrderId, order);
    return order;
  }

  clientOrderIdPrefix(): string {
    return 'x-15PC4ZJy';
  }

  getAccount: () => Promise<AccountSnapshot> = notUsed('getAccount');
  getPosition: (symbol: string) => Promise<PositionSnapshot> = notUsed('getPosition');
  getSymbolFilters: (symbol: string) => Promise<SymbolFilters> = notUsed('getSymbolFilters');
  setLeverage: (symbol: string, leverage: number) => Promise<void> = notUsed('setLeverage');
  getPositionMode: () => Promise<'ONE_WAY' | 'HEDGE'> = notUsed('getPositionMode');
  getKeyPermissions: () => Promise<KeyPermissions> = notUsed('getKeyPermissions');
  cancelOrder: (symbol: string, clientOrderId: string) => Promise<OrderResult | null> = notUsed('cancelOrder');
  getOpenOrders: (symbol: string) => Promise<OrderResult[]> = notUsed('getOpenOrders');
  getUserTrades: (symbol: string, sinceMs: number) => Promise<TradeFill[]> = notUsed('getUserTrades');
  getIncome: (sinceMs: number) => Promise<IncomeRecord[]> = notUsed('getIncome');
  openUserDataStream: () => Promise<UserDataStream> = notUsed('openUserDataStream');
  async close(): Promise<void> {}
}
