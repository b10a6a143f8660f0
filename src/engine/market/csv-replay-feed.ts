import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { Candle, KlineInterval } from './candle';
import { FeedBase } from './feed-base';
import { parseKlineCsv } from './kline-csv';

export interface CsvReplayFeedOptions {
  symbol: string;
  interval: KlineInterval;
  logger: Logger;
  /** A kline CSV file, or already parsed candles. */
  file?: string;
  candles?: readonly Candle[];
  /** First N rows are delivered as warm-up history. */
  historyCandles?: number;
  /** Pause between live candles (ms, default 0: as fast as timers allow). */
  delayMs?: number;
}

/** Replays historical klines through the same feed interface as the live market. */
export class CsvReplayFeed extends FeedBase {
  readonly kind = 'csv' as const;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private finish: (() => void) | null = null;
  /** Resolves when every row has been delivered (or the feed was stopped). */
  readonly done: Promise<void>;

  constructor(private readonly options: CsvReplayFeedOptions) {
    super(options.symbol, options.interval, options.logger);
    if (!options.file && !options.candles) throw new Error('CsvReplayFeed needs a file or candles');
    this.done = new Promise((resolve) => (this.finish = resolve));
  }

  async start(): Promise<void> {
    const candles = this.options.candles ?? parseKlineCsv(await readFile(this.options.file!, 'utf8'), this.options.file);
    const history = Math.min(this.options.historyCandles ?? 0, candles.length);
    for (let i = 0; i < history; i++) this.deliver(candles[i], { backfill: true });
    let next = history;
    const step = (): void => {
      if (this.stopped || next >= candles.length) {
        this.finish?.();
        return;
      }
      this.deliver(candles[next++], { backfill: false });
      this.timer = setTimeout(step, this.options.delayMs ?? 0);
    };
    step();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.finish?.();
  }
}
