import type { Logger } from 'pino';
import type { KlineInterval } from './candle';
import { intervalMs } from './candle';
import { FeedBase } from './feed-base';
import type { FeedStartOptions } from './market-feed';
import { SimulatedCandleGenerator } from './simulated-candle-generator';

export interface SimulatedFeedOptions {
  symbol: string;
  interval: KlineInterval;
  logger: Logger;
  seed?: number;
  /**
   * How much faster than real time candles close. 300 turns a 15m candle into ~3 s, so a
   * newcomer sees the strategy move without waiting hours.
   */
  speed?: number;
  /** Candles delivered at start as warm-up history. */
  historyCandles?: number;
  startPrice?: number;
  now?: () => number;
}

/**
 * The demo/trial market: seeded candles on a timer. Candle times are simulated time, which runs
 * `speed` times faster than the wall clock; after a restart the simulated clock resumes after the
 * last candle acted on, so restored strategy state never points into the feed's future.
 */
export class SimulatedFeed extends FeedBase {
  readonly kind = 'simulated' as const;
  private timer: NodeJS.Timeout | null = null;
  private readonly seed: number;
  private readonly speed: number;
  private readonly historyCandles: number;
  private readonly now: () => number;

  constructor(private readonly options: SimulatedFeedOptions) {
    super(options.symbol, options.interval, options.logger);
    this.seed = options.seed ?? 1;
    this.speed = options.speed ?? 300;
    this.historyCandles = options.historyCandles ?? 300;
    this.now = options.now ?? Date.now;
    if (!(this.speed > 0)) throw new Error(`speed must be positive, got ${this.speed}`);
  }

  async start(options: FeedStartOptions = {}): Promise<void> {
    if (this.timer) return;
    const step = intervalMs(this.interval);
    const alignedNow = Math.floor(this.now() / step) * step;
    const firstLive = Math.max(alignedNow, (options.resumeAfter ?? -Infinity) + step);
    const generator = new SimulatedCandleGenerator({
      seed: this.seed,
      interval: this.interval,
      startTime: firstLive - this.historyCandles * step,
      startPrice: this.options.startPrice,
    });
    for (let i = 0; i < this.historyCandles; i++) this.deliver(generator.next(), { backfill: true });
    const periodMs = Math.max(1, Math.round(step / this.speed));
    this.timer = setInterval(() => this.deliver(generator.next(), { backfill: false }), periodMs);
    // A demo feed alone must not keep the process alive.
    this.timer.unref();
    this.logger.info({ symbol: this.symbol, interval: this.interval, seed: this.seed, speed: this.speed, periodMs }, 'simulated feed started');
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
