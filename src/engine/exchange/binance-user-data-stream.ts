import { WebsocketClient } from 'binance';
import Decimal from 'decimal.js';
import type { Logger } from 'pino';
import type {
  AccountUpdateEvent, ExchangeOrderStatus, OrderUpdateEvent, UserDataHandlers, UserDataStream,
} from './exchange-gateway';

export interface BinanceUserDataStreamOptions {
  apiKey: string;
  apiSecret: string;
  futuresUrl: string;
  /** Host only (the package appends `/private/stream?listenKey=`), from BINANCE_FUTURES_WS_URL or BINANCE_FUTURES_TESTNET_WS_URL. */
  wsUrl: string;
  timeoutMs: number;
  logger: Logger;
}

/** Listen keys, API keys and secrets are long alphanumeric runs: none may reach a log line. */
const LONG_TOKEN = /[A-Za-z0-9]{32,}/g;

/** The package logs through `{trace, info, error}` (console by default): route it to pino, message text only, tokens removed. */
export function binanceWsLogger(logger: Logger) {
  const text = (params: unknown[]) => (typeof params[0] === 'string' ? params[0] : 'binance ws event').replace(LONG_TOKEN, '[redacted]');
  return {
    trace: () => undefined,
    info: (...params: unknown[]) => logger.debug({ src: 'binance-ws' }, text(params)),
    error: (...params: unknown[]) => logger.warn({ src: 'binance-ws' }, text(params)),
  };
}

interface WireOrderUpdate {
  s: string; c: string; S: 'BUY' | 'SELL'; q: string; ap: string; x: string; X: string; i: number; l: string; z: string;
  L: string; N: string | null; n: string | null; T: number; t: number; R: boolean; rp: string;
}
interface WireAccountUpdate {
  m: string;
  B: Array<{ a: string; wb: string; bc?: string }>;
  P: Array<{ s: string; pa: string; ep: string; up: string }>;
}

const STATUSES: ExchangeOrderStatus[] = ['NEW', 'PARTIALLY_FILLED', 'FILLED', 'CANCELED', 'REJECTED', 'EXPIRED'];
export const toOrderStatus = (s: string): ExchangeOrderStatus =>
  (STATUSES as string[]).includes(s) ? (s as ExchangeOrderStatus) : s === 'EXPIRED_IN_MATCH' ? 'EXPIRED' : 'NEW';

export function parseOrderUpdate(eventTime: number, o: WireOrderUpdate): OrderUpdateEvent {
  const avg = new Decimal(o.ap || '0');
  const order = {
    symbol: o.s, exchangeOrderId: String(o.i), clientOrderId: o.c, side: o.S, status: toOrderStatus(o.X),
    quantity: new Decimal(o.q), executedQty: new Decimal(o.z), avgPrice: avg.isZero() ? null : avg, reduceOnly: Boolean(o.R),
    updatedAt: new Date(o.T),
  };
  const fill = o.x === 'TRADE'
    ? {
      symbol: o.s, exchangeTradeId: String(o.t), exchangeOrderId: String(o.i), side: o.S, price: new Decimal(o.L),
      quantity: new Decimal(o.l), realizedPnl: new Decimal(o.rp || '0'), commission: new Decimal(o.n || '0'),
      commissionAsset: o.N ?? 'USDT', time: new Date(o.T),
    }
    : null;
  // Binance names liquidation and ADL orders by these client-id prefixes.
  const isLiquidation = o.c.startsWith('autoclose-') || o.c.startsWith('adl_autoclose');
  return { eventTime: new Date(eventTime), order, fill, isLiquidation };
}

/** `transactionTime` (T) is when the balance changed; the event time (E) when the message was sent. */
export function parseAccountUpdate(eventTime: number, a: WireAccountUpdate, transactionTime?: number): AccountUpdateEvent {
  const usdt = a.B.find((b) => b.a === 'USDT');
  const at = new Date(transactionTime ?? eventTime);
  return {
    eventTime: at,
    reason: a.m,
    walletBalance: usdt ? new Decimal(usdt.wb) : null,
    balanceChanges: a.B.filter((b) => b.bc !== undefined && !new Decimal(b.bc).isZero()).map((b) => ({ asset: b.a, change: new Decimal(b.bc!) })),
    positions: a.P.map((p) => ({
      symbol: p.s, positionAmt: new Decimal(p.pa), entryPrice: new Decimal(p.ep), markPrice: null,
      unrealizedPnl: new Decimal(p.up), leverage: null, updatedAt: at,
    })),
  };
}

/**
 * The USD-M user-data stream through the package's WebsocketClient, which
 * keeps the listen key alive (PUT every 50 min) and respawns with a fresh key
 * after a drop or `listenKeyExpired`. close() also clears the keepalive
 * interval and respawn timers the package leaves running (notes §7.3).
 */
export class BinanceUserDataStream implements UserDataStream {
  private readonly ws: WebsocketClient;
  private closed = false;
  private isConnected = false;

  constructor(private readonly opts: BinanceUserDataStreamOptions, private readonly handlers: UserDataHandlers) {
    this.ws = new WebsocketClient(
      {
        api_key: opts.apiKey,
        api_secret: opts.apiSecret,
        beautify: false,
        wsUrl: opts.wsUrl,
        restOptions: { baseUrl: opts.futuresUrl },
        requestOptions: { timeout: opts.timeoutMs },
      },
      binanceWsLogger(opts.logger),
    );
    this.ws.on('message', (event: unknown) => this.onMessage(event));
    this.ws.on('open', () => this.onUp());
    this.ws.on('reconnected', () => this.onUp());
    this.ws.on('reconnecting', () => {
      if (this.closed) return;
      this.isConnected = false;
      this.emitState('reconnecting');
    });
  }

  get connected(): boolean {
    return this.isConnected && !this.closed;
  }

  async start(): Promise<void> {
    const result = await this.ws.subscribeUsdFuturesUserDataStream('usdmPrivate');
    if (!result) {
      await this.close();
      throw new Error('user data stream did not connect');
    }
  }

  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.isConnected = false;
      this.emitState('closed');
    }
    this.teardown();
    // The package arms its keepalive interval right after the socket opens, a few microtasks later: sweep again.
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.teardown();
  }

  private onUp(): void {
    if (this.closed) {
      // A respawn that was in flight when close() ran: kill it once its timers exist.
      setImmediate(() => this.teardown());
      return;
    }
    this.isConnected = true;
    this.emitState('connected');
  }

  private teardown(): void {
    this.ws.closeAll(true);
    // Package internals (3.6.5): the keepalive timers live in the user-data manager's listen-key cache.
    const internals = (this.ws as unknown as { getUserDataStreamManager(): unknown }).getUserDataStreamManager() as {
      listenKeyStateCache?: { listenKeyStateStore?: Record<string, unknown>; clearAllListenKeyState(key: string): void };
    };
    const cache = internals.listenKeyStateCache;
    for (const key of Object.keys(cache?.listenKeyStateStore ?? {})) cache?.clearAllListenKeyState(key);
    const respawns = (this.ws as unknown as { respawnTimeoutCache?: Record<string, NodeJS.Timeout> }).respawnTimeoutCache ?? {};
    for (const [key, timer] of Object.entries(respawns)) {
      clearTimeout(timer);
      delete respawns[key];
    }
  }

  private onMessage(event: unknown): void {
    if (this.closed || !event || typeof event !== 'object') return;
    const e = event as { e?: string; E?: number; T?: number; o?: WireOrderUpdate; a?: WireAccountUpdate };
    try {
      if (e.e === 'ORDER_TRADE_UPDATE' && e.o) this.handlers.onOrderUpdate(parseOrderUpdate(e.E ?? Date.now(), e.o));
      else if (e.e === 'ACCOUNT_UPDATE' && e.a) this.handlers.onAccountUpdate(parseAccountUpdate(e.E ?? Date.now(), e.a, e.T));
    } catch (err) {
      // A throwing handler must not take the socket down with it.
      this.opts.logger.error({ err: err instanceof Error ? err.message : String(err), event: e.e }, 'user data handler failed');
    }
  }

  private emitState(state: 'connected' | 'reconnecting' | 'closed'): void {
    try {
      this.handlers.onStateChange?.(state);
    } catch {
      // Same rule as for event handlers: the stream outlives a faulty listener.
    }
  }
}
