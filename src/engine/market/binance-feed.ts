import { WebsocketClient } from 'binance';
import type { Logger } from 'pino';
import type { Candle, KlineInterval } from './candle';
import { candleFromKlineRow, intervalMs } from './candle';
import { FeedBase } from './feed-base';
import type { KlineRestSource } from './binance-kline-rest';
import { BinanceKlineRest } from './binance-kline-rest';
import type { FeedStartOptions } from './market-feed';

export interface BinanceFeedOptions {
  symbol: string;
  interval: KlineInterval;
  logger: Logger;
  /** BINANCE_FUTURES_URL. */
  restBaseUrl: string;
  /** BINANCE_FUTURES_WS_URL; the package appends `/market/stream`. */
  wsUrl: string;
  historyCandles?: number;
  reconnectDelayMs?: number;
  rest?: KlineRestSource;
  now?: () => number;
}

/** Binance's REST page limit for klines. */
const PAGE_LIMIT = 1500;
const GAP_FILL_ATTEMPTS = 3;

interface KlinePayload {
  e?: string;
  s?: string;
  k?: { t: number; T: number; s: string; i: string; o: string; c: string; h: string; l: string; v: string; x: boolean };
}

/**
 * Live klines: REST history at start, then the kline stream. Every candle goes through one
 * serial queue, so a REST gap fill and stream messages never interleave; any hole (a reconnect,
 * a dropped message) is filled from REST before the next candle is delivered.
 */
export class BinanceFeed extends FeedBase {
  readonly kind = 'binance' as const;
  private ws: WebsocketClient | null = null;
  private queue: Promise<void> = Promise.resolve();
  private readonly rest: KlineRestSource;
  private readonly step: number;
  private readonly now: () => number;

  constructor(private readonly options: BinanceFeedOptions) {
    super(options.symbol, options.interval, options.logger);
    this.rest = options.rest ?? new BinanceKlineRest(options.restBaseUrl);
    this.step = intervalMs(options.interval);
    this.now = options.now ?? Date.now;
  }

  async start(_options: FeedStartOptions = {}): Promise<void> {
    if (this.ws) return;
    const log = this.logger;
    const ws = new WebsocketClient(
      { wsUrl: this.options.wsUrl, beautify: false, reconnectTimeout: this.options.reconnectDelayMs ?? 500 },
      {
        trace: () => undefined,
        info: (message: unknown) => log.debug({ source: 'binance-ws' }, String(message)),
        error: (message: unknown) => log.warn({ source: 'binance-ws' }, String(message)),
      },
    );
    this.ws = ws;
    ws.on('message', (event: unknown) => this.onMessage(event));
    // Candles that closed while the socket was down come from REST, before the next live one.
    ws.on('reconnected', () => this.enqueue(() => this.fillUpToNow()));
    ws.on('reconnecting', () => log.warn({ symbol: this.symbol }, 'kline stream lost, reconnecting'));
    ws.on('exception', (event: unknown) => log.warn({ event: summarize(event) }, 'kline stream exception'));

    // Queue the history first so stream messages that arrive meanwhile wait behind it.
    const history = this.enqueue(() => this.loadHistory());
    await ws.subscribeKlines(this.symbol, this.interval, 'usdm');
    await history;
  }

  async stop(): Promise<void> {
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.removeAllListeners();
      ws.closeAll(true);
    }
    await this.queue;
  }

  private enqueue(job: () => Promise<void>): Promise<void> {
    this.queue = this.queue.then(job).catch((err) => this.logger.error({ err }, 'kline feed job failed'));
    return this.queue;
  }

  private onMessage(event: unknown): void {
    const payload = ((event as { data?: KlinePayload })?.data?.k ? (event as { data: KlinePayload }).data : event) as KlinePayload;
    const k = payload?.k;
    if (payload?.e !== 'kline' || !k || k.s !== this.symbol || k.i !== this.interval) return;
    this.publishPrice(k.c, this.now());
    if (!k.x) return;
    let candle: Candle;
    try {
      candle = candleFromKlineRow([k.t, k.o, k.h, k.l, k.c, k.v, k.T]);
    } catch (err) {
      this.logger.warn({ err, openTime: k.t }, 'malformed kline from stream dropped');
      return;
    }
    void this.enqueue(async () => {
      if (this.lastOpenTime !== null && candle.openTime > this.lastOpenTime + this.step) {
        await this.fill(this.lastOpenTime + this.step, candle.openTime - 1);
      }
      this.deliver(candle, { backfill: false });
    });
  }

  private async loadHistory(): Promise<void> {
    const wanted = this.options.historyCandles ?? 300;
    // One extra row: the newest one is usually the candle still forming.
    const rows = await this.rest.fetchKlines({ symbol: this.symbol, interval: this.interval, limit: Math.min(PAGE_LIMIT, wanted + 1) });
    for (const candle of this.closedCandles(rows).slice(-wanted)) this.deliver(candle, { backfill: true });
    this.logger.info({ symbol: this.symbol, interval: this.interval, lastOpenTime: this.lastOpenTime }, 'kline history loaded');
  }

  private async fillUpToNow(): Promise<void> {
    if (this.lastOpenTime === null) return this.loadHistory();
    await this.fill(this.lastOpenTime + this.step, this.now());
  }

  /** Delivers every closed candle with open time in [from, to], page by page; retried because a hole is permanent. */
  private async fill(from: number, to: number): Promise<void> {
    let startTime = from;
    for (let attempt = 1; startTime <= to; ) {
      let rows: readonly (readonly unknown[])[];
      try {
        rows = await this.rest.fetchKlines({ symbol: this.symbol, interval: this.interval, startTime, endTime: to, limit: PAGE_LIMIT });
      } catch (err) {
        if (attempt >= GAP_FILL_ATTEMPTS) {
          this.logger.error({ err: summarize(err), from: startTime, to }, 'kline gap could not be filled from REST');
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 250 * attempt++));
        continue;
      }
      const candles = this.closedCandles(rows);
      for (const candle of candles) this.deliver(candle, { backfill: false });
      this.logger.info({ from: startTime, to, filled: candles.length }, 'kline gap backfilled');
      if (rows.length < PAGE_LIMIT || candles.length === 0) return;
      startTime = candles[candles.length - 1].openTime + this.step;
    }
  }

  /** REST answers include the candle still forming; only closed ones are facts. */
  private closedCandles(rows: readonly (readonly unknown[])[]): Candle[] {
    const now = this.now();
    const out: Candle[] = [];
    for (const row of rows) {
      try {
        const candle = candleFromKlineRow(row);
        if (candle.closeTime < now) out.push(candle);
      } catch (err) {
        this.logger.warn({ err: (err as Error).message }, 'malformed kline from REST dropped');
      }
    }
    return out;
  }
}

/** The package throws plain objects that carry the signed URL and headers; log only code and message. */
function summarize(err: unknown): { code?: unknown; message?: unknown } {
  const e = err as { code?: unknown; message?: unknown; msg?: unknown } | null;
  return { code: e?.code, message: e?.message ?? e?.msg };
}
