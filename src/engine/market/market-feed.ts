import type { Candle, KlineInterval } from './candle';

export type FeedKind = 'binance' | 'simulated' | 'csv';

export interface CandleMeta {
  /**
   * True for the history a feed delivers when it starts: it warms indicators up but is not
   * acted on (an OPEN for a candle that closed hours ago is not a signal). Gap backfills after a
   * reconnect are not history: those candles are evaluated like live ones.
   */
  readonly backfill: boolean;
}

export type CandleListener = (candle: Candle, meta: CandleMeta) => void;
export type PriceListener = (price: string, time: number) => void;

export interface FeedStartOptions {
  /** Open time of the last candle already acted on (restored state); the feed does not need to go back further. */
  resumeAfter?: number | null;
}

/**
 * Closed candles, strictly increasing in open time and never repeated, for one symbol and
 * interval, plus the latest traded price.
 */
export interface MarketFeed {
  readonly kind: FeedKind;
  readonly symbol: string;
  readonly interval: KlineInterval;
  onCandle(listener: CandleListener): () => void;
  onPrice(listener: PriceListener): () => void;
  latestPrice(): string | null;
  start(options?: FeedStartOptions): Promise<void>;
  stop(): Promise<void>;
}
