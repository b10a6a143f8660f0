import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { MainClient, USDMClient } from 'binance';
import Decimal from 'decimal.js';
import type { Logger } from 'pino';
import type { BinanceExchangeInfoCache, WireExchangeInfo } from './binance-exchange-info-cache';
import type { BinanceTimeOffsets } from './binance-time-offsets';
import { BinanceUserDataStream, toOrderStatus } from './binance-user-data-stream';
import { describeBinanceFailure, mapBinanceError, scrub } from './error-mapper';
import {
  ClockSkewError, ExchangeError, ExchangeUnavailableError, InvalidOrderError, IpBannedError, RateLimitedError,
} from './exchange-errors';
import type {
  AccountSnapshot, ExchangeGateway, IncomeRecord, KeyPermissions, MarketOrderRequest, OrderResult, PositionSnapshot,
  SymbolFilters, TradeFill, UserDataHandlers, UserDataStream,
} from './exchange-gateway';
import type { ExchangeTrafficControl } from './exchange-traffic-control';

export interface BinanceFuturesGatewayOptions {
  apiKey: string;
  apiSecret: string;
  /** USD-M REST base (mainnet or testnet), e.g. BINANCE_FUTURES_URL. */
  futuresUrl: string;
  /** Spot/SAPI REST base for apiRestrictions (BINANCE_SPOT_URL or BINANCE_SPOT_TESTNET_URL). */
  spotUrl: string;
  /** USD-M websocket host (BINANCE_FUTURES_WS_URL or BINANCE_FUTURES_TESTNET_WS_URL). */
  wsUrl: string;
  /** Per-request timeout; the package's default is 5 minutes (notes §7.1). */
  timeoutMs?: number;
  recvWindow?: number;
  traffic: ExchangeTrafficControl;
  timeOffsets: BinanceTimeOffsets;
  exchangeInfo: BinanceExchangeInfoCache;
  logger: Logger;
  /** Process-wide keep-alive agents: without them every request opens a new connection (and TLS handshake). */
  agents?: { http: HttpAgent; https: HttpsAgent };
}

const WEEK_MS = 7 * 24 * 3600_000;
/** Request weight of each call on the futures IP budget (Binance's docs; orders count on the account's order limits instead). */
const WEIGHT: Record<string, number> = {
  getAccount: 5, getPosition: 5, exchangeInfo: 1, setLeverage: 1, getPositionMode: 30, apiRestrictions: 0, placeMarketOrder: 0,
  getOrder: 1, cancelOrder: 1, getOpenOrders: 1, getUserTrades: 5, getIncome: 30, listenKey: 1, serverTime: 1,
};
/** How far back Binance keeps fills (userTrades: six months) and income (three months). */
const TRADES_KEPT_MS = 180 * 24 * 3600_000;
const INCOME_KEPT_MS = 90 * 24 * 3600_000;
const CLIENT_ID_PATTERN = /^[.A-Z:/a-z0-9_-]{1,36}$/;

interface WireOrder {
  symbol: string; orderId: number | string; clientOrderId: string; side: 'BUY' | 'SELL'; status: string;
  origQty: string | number; executedQty: string | number; avgPrice: string | number; reduceOnly: boolean;
  updateTime: number;
}
interface WireTrade {
  symbol: string; id: number; orderId: number; side: 'BUY' | 'SELL'; price: string | number; qty: string | number;
  realizedPnl: string | number; commission: string | number; commissionAsset: string; time: number;
}
interface WireIncome {
  symbol: string; incomeType: string; income: string | number; asset: string; time: number; tranId: number | string; tradeId?: string | number;
}

const dec = (v: string | number | undefined | null) => new Decimal(v === undefined || v === null || v === '' ? 0 : String(v));

export function toOrderResult(o: WireOrder): OrderResult {
  const avg = dec(o.avgPrice);
  return {
    symbol: o.symbol, exchangeOrderId: String(o.orderId), clientOrderId: o.clientOrderId, side: o.side,
    status: toOrderStatus(o.status), quantity: dec(o.origQty), executedQty: dec(o.executedQty),
    avgPrice: avg.isZero() ? null : avg, reduceOnly: Boolean(o.reduceOnly), updatedAt: new Date(o.updateTime),
  };
}

/**
 * One user's Binance USD-M account through the `binance` package. Every call
 * waits at the shared traffic gate, signs with the shared server-time offset,
 * and throws only ExchangeError subclasses whose text holds no key, secret or URL.
 */
export class BinanceFuturesGateway implements ExchangeGateway {
  readonly venue = 'BINANCE' as const;
  private readonly client: USDMClient;
  /** Keyless: what every account shares must not be fetched through (and fail or stall with) one user's key. */
  private readonly publicClient: USDMClient;
  private readonly spot: MainClient;
  private readonly logger: Logger;
  private readonly secrets: string[];
  private readonly leverageSet = new Map<string, number>();
  private readonly streams = new Set<BinanceUserDataStream>();

  constructor(private readonly opts: BinanceFuturesGatewayOptions) {
    const timeout = opts.timeoutMs ?? 5_000;
    const transport = { timeout, ...(opts.agents ? { httpAgent: opts.agents.http, httpsAgent: opts.agents.https } : {}) };
    const rest = { api_key: opts.apiKey, api_secret: opts.apiSecret, recvWindow: opts.recvWindow ?? 5_000, disableTimeSync: true };
    this.client = new USDMClient({ ...rest, baseUrl: opts.futuresUrl }, transport);
    this.publicClient = new USDMClient({ baseUrl: opts.futuresUrl, disableTimeSync: true }, transport);
    this.spot = new MainClient({ ...rest, baseUrl: opts.spotUrl }, transport);
    this.secrets = [opts.apiKey, opts.apiSecret];
    this.logger = opts.logger.child({ venue: 'binance', key: `…${opts.apiKey.slice(-4)}` });
  }

  clientOrderIdPrefix(): string {
    return this.client.getOrderIdPrefix();
  }

  async getAccount(): Promise<AccountSnapshot> {
    const a = await this.call('getAccount', this.client, () => this.client.getAccountInformationV3());
    return {
      equity: dec(a.totalMarginBalance), walletBalance: dec(a.totalWalletBalance),
      availableBalance: dec(a.availableBalance), unrealizedPnl: dec(a.totalUnrealizedProfit),
    };
  }

  async getPosition(symbol: string): Promise<PositionSnapshot> {
    const rows = (await this.call('getPosition', this.client, () => this.client.getPositionsV3({ symbol }))).filter((r) => r.symbol === symbol);
    // v3 lists only symbols with a position; in hedge mode LONG and SHORT rows add up to the net amount.
    const open = rows.filter((r) => !dec(r.positionAmt).isZero());
    const amt = open.reduce((sum, r) => sum.plus(dec(r.positionAmt)), new Decimal(0));
    const main = open[0] ?? rows[0];
    const updateTime = (main as { updateTime?: number } | undefined)?.updateTime;
    return {
      symbol, positionAmt: amt, entryPrice: open.length === 1 ? dec(main.entryPrice) : new Decimal(0),
      markPrice: main ? dec(main.markPrice) : null,
      unrealizedPnl: open.reduce((sum, r) => sum.plus(dec(r.unRealizedProfit)), new Decimal(0)),
      // v3 carries no leverage; we know it only when this gateway set it.
      leverage: this.leverageSet.get(symbol) ?? null,
      // A flat symbol has no row: its state is as of this read.
      updatedAt: updateTime ? new Date(updateTime) : null,
    };
  }

  getSymbolFilters(symbol: string): Promise<SymbolFilters> {
    return this.opts.exchangeInfo.get(this.opts.futuresUrl, symbol, () =>
      this.call('exchangeInfo', this.publicClient, () => this.publicClient.getExchangeInfo() as unknown as Promise<WireExchangeInfo>));
  }

  async setLeverage(symbol: string, leverage: number): Promise<void> {
    if (!Number.isInteger(leverage) || leverage < 1 || leverage > 125) {
      throw new InvalidOrderError('Leverage must be a whole number from 1 to 125.');
    }
    await this.call('setLeverage', this.client, () => this.client.setLeverage({ symbol, leverage }));
    this.leverageSet.set(symbol, leverage);
  }

  async getPositionMode(): Promise<'ONE_WAY' | 'HEDGE'> {
    const res = await this.call('getPositionMode', this.client, () => this.client.getCurrentPositionMode());
    return res.dualSidePosition ? 'HEDGE' : 'ONE_WAY';
  }

  async getKeyPermissions(): Promise<KeyPermissions> {
    // Testnet keys too: read from the testnet's spot host (BINANCE_SPOT_TESTNET_URL). A host that cannot say what a key
    // may do fails the verification; a key is never assumed harmless.
    const p = (await this.call('apiRestrictions', this.spot, () => this.spot.getApiKeyPermissions())) as unknown as Record<string, boolean>;
    return {
      canRead: Boolean(p.enableReading), canTrade: Boolean(p.enableFutures), futuresEnabled: Boolean(p.enableFutures),
      canWithdraw: Boolean(p.enableWithdrawals), canTransferInternal: Boolean(p.enableInternalTransfer),
      canTransferUniversal: Boolean(p.permitsUniversalTransfer), ipRestricted: Boolean(p.ipRestrict),
    };
  }

  async placeMarketOrder(request: MarketOrderRequest): Promise<OrderResult> {
    const prefix = this.clientOrderIdPrefix();
    if (!request.clientOrderId.startsWith(prefix) || !CLIENT_ID_PATTERN.test(request.clientOrderId)) {
      throw new InvalidOrderError(`Client order id must start with ${prefix} and be at most 36 of [A-Za-z0-9.:/_-].`);
    }
    const filters = await this.getSymbolFilters(request.symbol);
    // Rounded DOWN, explicitly, to the step: an order must not exceed what the user's sizing allowed.
    const quantity = request.quantity.div(filters.stepSize).toDecimalPlaces(0, Decimal.ROUND_DOWN).times(filters.stepSize);
    if (quantity.lt(filters.minQty) || quantity.lte(0)) {
      throw new InvalidOrderError(`Quantity ${request.quantity.toFixed()} is below the minimum ${filters.minQty.toFixed()} for ${request.symbol}.`);
    }
    const res = await this.call('placeMarketOrder', this.client, () =>
      this.client.submitNewOrder({
        symbol: request.symbol,
        side: request.side,
        type: 'MARKET',
        // Sent as a decimal string: a JS number could print as 1e-7 or lose digits.
        quantity: quantity.toFixed() as unknown as number,
        newClientOrderId: request.clientOrderId,
        newOrderRespType: 'RESULT',
        ...(request.reduceOnly ? { reduceOnly: 'true' as const } : {}),
      }));
    return toOrderResult(res as unknown as WireOrder);
  }

  async getOrder(symbol: string, clientOrderId: string): Promise<OrderResult | null> {
    try {
      const res = await this.call('getOrder', this.client, () => this.client.getOrder({ symbol, origClientOrderId: clientOrderId }), [-2013]);
      return toOrderResult(res as unknown as WireOrder);
    } catch (err) {
      if (err instanceof ExchangeError && err.exchangeCode === -2013) return null;
      throw err;
    }
  }

  async cancelOrder(symbol: string, clientOrderId: string): Promise<OrderResult | null> {
    try {
      const res = await this.call('cancelOrder', this.client, () => this.client.cancelOrder({ symbol, origClientOrderId: clientOrderId }), [-2011, -2013]);
      return toOrderResult(res as unknown as WireOrder);
    } catch (err) {
      if (err instanceof ExchangeError && (err.exchangeCode === -2011 || err.exchangeCode === -2013)) return null;
      throw err;
    }
  }

  async getOpenOrders(symbol: string): Promise<OrderResult[]> {
    const rows = await this.call('getOpenOrders', this.client, () => this.client.getAllOpenOrders({ symbol }));
    return (rows as unknown as WireOrder[]).map(toOrderResult);
  }

  async getUserTrades(symbol: string, sinceMs: number): Promise<TradeFill[]> {
    const rows = await this.paged<WireTrade>('getUserTrades', sinceMs, TRADES_KEPT_MS, (startTime, endTime) =>
      this.client.getAccountTrades({ symbol, startTime, endTime, limit: 1000 }) as unknown as Promise<WireTrade[]>, (t) => String(t.id));
    return rows
      .map((t) => ({
        symbol: t.symbol, exchangeTradeId: String(t.id), exchangeOrderId: String(t.orderId), side: t.side, price: dec(t.price),
        quantity: dec(t.qty), realizedPnl: dec(t.realizedPnl), commission: dec(t.commission), commissionAsset: t.commissionAsset,
        time: new Date(t.time),
      }))
      .sort((a, b) => a.time.getTime() - b.time.getTime() || Number(a.exchangeTradeId) - Number(b.exchangeTradeId));
  }

  async getIncome(sinceMs: number): Promise<IncomeRecord[]> {
    const rows = await this.paged<WireIncome>('getIncome', sinceMs, INCOME_KEPT_MS, (startTime, endTime) =>
      this.client.getIncomeHistory({ startTime, endTime, limit: 1000 }) as unknown as Promise<WireIncome[]>, (i) => `${i.tranId}:${i.incomeType}`);
    return rows
      .map((i) => ({
        symbol: i.symbol, incomeType: i.incomeType, income: dec(i.income), asset: i.asset, time: new Date(i.time), tranId: String(i.tranId),
        tradeId: i.tradeId === undefined || i.tradeId === null || i.tradeId === '' ? null : String(i.tradeId),
      }))
      .sort((a, b) => a.time.getTime() - b.time.getTime());
  }

  async openUserDataStream(handlers: UserDataHandlers): Promise<UserDataStream> {
    // Through our gate and error mapping first: the package swallows this call's failure into an event.
    await this.call('listenKey', this.client, () => this.client.getFuturesUserDataListenKey());
    const stream = new BinanceUserDataStream(
      {
        apiKey: this.opts.apiKey, apiSecret: this.opts.apiSecret, futuresUrl: this.opts.futuresUrl, wsUrl: this.opts.wsUrl,
        timeoutMs: this.opts.timeoutMs ?? 5_000, logger: this.logger,
      },
      handlers,
    );
    try {
      await stream.start();
    } catch {
      throw new ExchangeUnavailableError('The Binance user-data stream could not be opened.');
    }
    this.streams.add(stream);
    const close = stream.close.bind(stream);
    return {
      get connected() { return stream.connected; },
      close: async () => {
        this.streams.delete(stream);
        await close();
      },
    };
  }

  async close(): Promise<void> {
    const streams = [...this.streams];
    this.streams.clear();
    await Promise.all(streams.map((s) => s.close()));
  }

  /**
   * Fills and income since `sinceMs`, as far back as Binance keeps them, fetched
   * in windows of at most 7 days (Binance's limit) and 1000 rows, so a long
   * outage is caught up instead of lost.
   */
  private async paged<T extends { time: number }>(
    op: string, sinceMs: number, keptMs: number, fetch: (startTime: number, endTime: number) => Promise<T[]>, idOf: (row: T) => string,
  ): Promise<T[]> {
    const now = Date.now() + this.opts.timeOffsets.offset(this.opts.futuresUrl);
    const out = new Map<string, T>();
    let start = Math.max(sinceMs, now - keptMs + 60_000);
    while (start <= now) {
      const end = Math.min(start + WEEK_MS - 1, now);
      const rows = await this.call(op, this.client, () => fetch(start, end));
      for (const row of rows) out.set(idOf(row), row);
      if (rows.length < 1000) start = end + 1;
      else start = Math.max(rows[rows.length - 1].time, start + 1);
    }
    return [...out.values()];
  }

  private async call<T>(op: string, client: USDMClient | MainClient, fn: () => Promise<T>, quietCodes: number[] = [], retryOnSkew = true): Promise<T> {
    await this.opts.traffic.gate(WEIGHT[op] ?? 1);
    client.setTimeOffset(this.opts.timeOffsets.offset(this.opts.futuresUrl));
    try {
      const result = await fn();
      this.opts.traffic.observeWeight(client.getRateLimitStates()['x-mbx-used-weight-1m']);
      return result;
    } catch (raw) {
      const failure = describeBinanceFailure(raw);
      this.opts.traffic.observeWeight(failure.usedWeight1m);
      const err = mapBinanceError(raw);
      if (err instanceof IpBannedError) this.opts.traffic.pause(err.retryAfterMs, 'ip_banned');
      else if (err instanceof RateLimitedError && err.exchangeCode === -1003) this.opts.traffic.pause(err.retryAfterMs, 'rate_limited');
      if (err instanceof ClockSkewError && retryOnSkew) {
        // A -1021 was refused before execution: resync once and send the same request again.
        await this.resyncClock();
        return this.call(op, client, fn, quietCodes, false);
      }
      if (!quietCodes.includes(failure.code ?? 0)) {
        this.logger.warn(
          { op, kind: err.kind, code: failure.code, network: failure.networkCode, detail: failure.msg ? scrub(failure.msg, this.secrets) : null },
          'binance call failed',
        );
      }
      throw err;
    }
  }

  private async resyncClock(): Promise<void> {
    try {
      await this.opts.timeOffsets.resync(this.opts.futuresUrl, async () => {
        await this.opts.traffic.gate(WEIGHT.serverTime);
        return this.client.getServerTime();
      });
    } catch (raw) {
      throw mapBinanceError(raw);
    }
  }
}
