import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Decimal from 'decimal.js';
import { FakeBinanceHttp, type FaultHandle, type FaultSpec, type LoggedRequest } from './fake-binance-http';
import type { KlineRow, RouteContext } from './fake-binance-routes';
import {
  FakeExchangeState, type AddAccountOptions, type ApiRestrictions, type FakeAccount, type FillOutcome,
} from './fake-binance-state';
import { FakeBinanceSockets, type PushKline } from './fake-binance-ws';

export interface FakeBinanceOptions {
  /** IP request-weight budget per minute before 429 (Binance: 2400). */
  weightLimitPerMinute?: number;
  /** Keep a log of every request (on by default; turn off for very long benchmarks). */
  logRequests?: boolean;
}

/**
 * A Binance USDⓈ-M futures (+ /sapi apiRestrictions) server for tests, on
 * 127.0.0.1 and an ephemeral port. Point `USDMClient`/`MainClient` `baseUrl`
 * at `url` and `WebsocketClient` `wsUrl` at `wsUrl`. Signatures, timestamps,
 * keys and permissions are checked as Binance does; faults are injectable.
 */
export class FakeBinance {
  readonly state: FakeExchangeState;
  private readonly http: FakeBinanceHttp;
  private readonly sockets: FakeBinanceSockets;
  private readonly listenKeys = new Map<string, FakeAccount>();
  private readonly klineStore = new Map<string, KlineRow[]>();
  private server: Server | null = null;
  private port = 0;
  private timeOffsetMs = 0;

  constructor(opts: FakeBinanceOptions = {}) {
    this.state = new FakeExchangeState(() => this.serverTime());
    this.sockets = new FakeBinanceSockets(this.listenKeys, this.state, () => this.serverTime());
    const ctx: RouteContext = {
      state: this.state,
      serverTime: () => this.serverTime(),
      klines: (symbol, interval) => this.klineStore.get(`${symbol}|${interval}`) ?? [],
      listenKeys: this.listenKeys,
      afterFill: (account, fill) => this.publishFill(account, fill),
      afterOrderChange: (account, order) => {
        if (order.status !== 'FILLED') this.sockets.orderUpdate(account, order, null);
      },
      closeListenKey: (key) => this.sockets.closeListenKey(key),
    };
    this.http = new FakeBinanceHttp(ctx, this.state.accounts, {
      weightLimitPerMinute: opts.weightLimitPerMinute ?? 2400,
      logRequests: opts.logRequests ?? true,
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get wsUrl(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      this.http.handle(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ code: -1000, msg: 'An unknown error occured while processing the request.' }));
      });
    });
    server.keepAliveTimeout = 1000;
    server.on('upgrade', (req, socket, head) => this.sockets.handleUpgrade(req, socket, head));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Closes sockets, hanging requests and timers: nothing keeps the process alive afterwards. */
  async stop(): Promise<void> {
    this.http.cancelTimers();
    await this.sockets.close();
    const server = this.server;
    this.server = null;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  serverTime(): number {
    return Date.now() + this.timeOffsetMs;
  }

  /** Moves the exchange clock: a positive offset makes our timestamps look stale (-1021). */
  setServerTimeOffset(ms: number): void {
    this.timeOffsetMs = ms;
  }

  addAccount(opts: AddAccountOptions): FakeAccount {
    return this.state.addAccount(opts);
  }

  account(apiKey: string): FakeAccount {
    const account = this.state.accounts.get(apiKey);
    if (!account) throw new Error(`FakeBinance: no account for key ${apiKey.slice(0, 4)}…`);
    return account;
  }

  setPermissions(apiKey: string, permissions: Partial<ApiRestrictions>): void {
    Object.assign(this.account(apiKey).permissions, permissions);
  }

  /** The key stops working (-2015, HTTP 401) as when the user deletes it on binance.com. */
  revokeKey(apiKey: string): void {
    this.account(apiKey).revoked = true;
  }

  restoreKey(apiKey: string): void {
    this.account(apiKey).revoked = false;
  }

  setPrice(symbol: string, price: Decimal.Value): void {
    for (const { account, fill } of this.state.setPrice(symbol, new Decimal(price))) this.publishFill(account, fill);
  }

  price(symbol: string): Decimal {
    return this.state.price(symbol);
  }

  setLatency(ms: number, apiKey?: string): void {
    this.http.setLatency(ms, apiKey);
  }

  /** Another server on the same IP spent `weight` of this minute's budget (Binance counts weight per IP). */
  spendWeight(weight: number): void {
    this.http.spendWeight(weight);
  }

  injectFault(spec: FaultSpec): FaultHandle {
    return this.http.injectFault(spec);
  }

  /** Removes every fault, latency, ban and throttle. */
  clearFaults(): void {
    this.http.clearFaults();
  }

  get requestLog(): readonly LoggedRequest[] {
    return this.http.log;
  }

  requests(filter: { method?: string; path?: string; apiKey?: string } = {}): LoggedRequest[] {
    return this.http.log.filter(
      (r) => (!filter.method || r.method === filter.method) && (!filter.path || r.path === filter.path)
        && (!filter.apiKey || r.apiKey === filter.apiKey),
    );
  }

  clearRequestLog(): void {
    this.http.log.length = 0;
  }

  /** Orders the exchange actually holds with this client id (the "no duplicate order anywhere" check). */
  ordersWithClientId(clientOrderId: string): Array<{ apiKey: string; orderId: number }> {
    const found = [];
    for (const account of this.state.accounts.values()) {
      for (const o of account.orders) if (o.clientOrderId === clientOrderId) found.push({ apiKey: account.apiKey, orderId: o.orderId });
    }
    return found;
  }

  /** History served by GET /fapi/v1/klines (sorted by open time). */
  setKlines(symbol: string, interval: string, rows: KlineRow[]): void {
    this.klineStore.set(`${symbol}|${interval}`, [...rows].sort((a, b) => a.openTime - b.openTime));
  }

  /** Sends a kline event to every market socket subscribed to it; a closed one is also added to the REST history. Returns how many sockets got it. */
  pushKline(k: PushKline): number {
    if (k.closed) {
      const key = `${k.symbol}|${k.interval}`;
      const rows = (this.klineStore.get(key) ?? []).filter((r) => r.openTime !== k.openTime);
      rows.push({ openTime: k.openTime, open: k.open, high: k.high, low: k.low, close: k.close, volume: k.volume, closeTime: k.closeTime });
      this.setKlines(k.symbol, k.interval, rows);
    }
    return this.sockets.pushKline(k);
  }

  get marketConnectionCount(): number {
    return this.sockets.marketConnectionCount;
  }

  userConnectionCount(apiKey?: string): number {
    return this.sockets.userConnectionCount(apiKey);
  }

  dropMarketConnections(): number {
    return this.sockets.dropMarketConnections();
  }

  dropUserConnections(apiKey?: string): number {
    return this.sockets.dropUserConnections(apiKey);
  }

  /** Sends `listenKeyExpired` and kills the key, as Binance does after 60 minutes without keepalive. */
  expireListenKey(apiKey: string): void {
    const key = this.account(apiKey).listenKey;
    if (key) this.sockets.expireListenKey(key);
  }

  private publishFill(account: FakeAccount, fill: FillOutcome): void {
    // Binance sends NEW then one TRADE per fill of a taker order, then the balance/position change.
    this.sockets.orderUpdate(account, { ...fill.order, status: 'NEW', executedQty: new Decimal(0), cumQuote: new Decimal(0) }, null);
    for (const { trade, order } of fill.trades) this.sockets.orderUpdate(account, order, trade);
    if (fill.trades.length === 0) {
      this.sockets.orderUpdate(account, fill.order, null);
      return;
    }
    this.sockets.accountUpdate(account, fill.order.symbol);
  }

  /** A MARKET order of this account fills in `parts` trades. */
  setFillParts(apiKey: string, parts: number): void {
    this.account(apiKey).fillParts = parts;
  }

  /** A MARKET order of this account fills at most `qty`; the rest expires (a thin book). Null: no limit. */
  setMarketFillLimit(apiKey: string, qty: Decimal.Value | null): void {
    this.account(apiKey).marketFillLimit = qty === null ? null : new Decimal(qty);
  }

  /** Commission paid in `asset` (e.g. BNB at `priceUsdt`); its `<asset>USDT` klines then value it. */
  setCommissionAsset(apiKey: string, asset: string, priceUsdt: Decimal.Value): void {
    const account = this.account(apiKey);
    account.commissionAsset = asset;
    account.commissionAssetPrice = new Decimal(priceUsdt);
  }

  /** The account's stream stays connected but delivers nothing (a stream that silently missed events). */
  muteUserStream(apiKey: string, muted = true): void {
    this.account(apiKey).streamMuted = muted;
  }

  /** A deposit (positive) or withdrawal (negative) to the futures wallet: income TRANSFER and ACCOUNT_UPDATE DEPOSIT/WITHDRAW. */
  transfer(apiKey: string, amount: Decimal.Value): void {
    const account = this.account(apiKey);
    const value = new Decimal(amount);
    const income = this.state.moveMoney(account, value, 'TRANSFER');
    this.sockets.balanceUpdate(account, value.isPositive() ? 'DEPOSIT' : 'WITHDRAW', value, income.time, 'BTCUSDT');
  }

  /** A funding payment on `symbol` (negative: the account paid): income FUNDING_FEE and ACCOUNT_UPDATE FUNDING_FEE. */
  chargeFunding(apiKey: string, symbol: string, amount: Decimal.Value): void {
    const account = this.account(apiKey);
    const value = new Decimal(amount);
    const income = this.state.moveMoney(account, value, 'FUNDING_FEE', symbol);
    this.sockets.balanceUpdate(account, 'FUNDING_FEE', value, income.time, symbol);
  }

  /** Any other balance change the exchange may report (insurance clear, a bonus…), under its raw reason. */
  adjustBalance(apiKey: string, reason: string, amount: Decimal.Value, incomeType = reason): void {
    const account = this.account(apiKey);
    const value = new Decimal(amount);
    const income = this.state.moveMoney(account, value, incomeType);
    this.sockets.balanceUpdate(account, reason, value, income.time, 'BTCUSDT');
  }
}
