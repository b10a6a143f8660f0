import type { Logger } from 'pino';
import type { Candle, KlineInterval } from './candle';
import type { CandleListener, CandleMeta, FeedKind, FeedStartOptions, MarketFeed, PriceListener } from './market-feed';

/**
 * Listener bookkeeping and the one rule every feed shares: a candle is delivered only when its
 * open time is newer than the last delivered one, so duplicates and stragglers from the
 * exchange (or a backfill overlapping the stream) never reach the strategy twice.
 */
export abstract class FeedBase implements MarketFeed {
  abstract readonly kind: FeedKind;
  private readonly candleListeners = new Set<CandleListener>();
  private readonly priceListeners = new Set<PriceListener>();
  private lastPrice: string | null = null;
  /** Open time of the last delivered candle. */
  protected lastOpenTime: number | null = null;

  protected constructor(
    readonly symbol: string,
    readonly interval: KlineInterval,
    protected readonly logger: Logger,
  ) {}

  abstract start(options?: FeedStartOptions): Promise<void>;
  abstract stop(): Promise<void>;

  onCandle(listener: CandleListener): () => void {
    this.candleListeners.add(listener);
    return () => this.candleListeners.delete(listener);
  }

  onPrice(listener: PriceListener): () => void {
    this.priceListeners.add(listener);
    return () => this.priceListeners.delete(listener);
  }

  latestPrice(): string | null {
    return this.lastPrice;
  }

  /** Returns false (and logs) when the candle is not newer than the last delivered one. */
  protected deliver(candle: Candle, meta: CandleMeta): boolean {
    if (this.lastOpenTime !== null && candle.openTime <= this.lastOpenTime) {
      this.logger.info(
        { feed: this.kind, symbol: this.symbol, interval: this.interval, openTime: candle.openTime, lastOpenTime: this.lastOpenTime },
        candle.openTime === this.lastOpenTime ? 'duplicate candle dropped' : 'out-of-order candle dropped',
      );
      return false;
    }
    this.lastOpenTime = candle.openTime;
    const frozen = Object.freeze({ ...candle });
    this.publishPrice(frozen.close, frozen.closeTime);
    for (const listener of this.candleListeners) {
      // A listener's bug must not stop the feed for everyone else.
      try {
        listener(frozen, meta);
      } catch (err) {
        this.logger.error({ err, feed: this.kind }, 'candle listener threw');
      }
    }
    return true;
  }

  protected publishPrice(price: string, time: number): void {
    this.lastPrice = price;
    for (const listener of this.priceListeners) {
      try {
        listener(price, time);
      } catch (err) {
        this.logger.error({ err, feed: this.kind }, 'price listener threw');
      }
    }
  }
}
