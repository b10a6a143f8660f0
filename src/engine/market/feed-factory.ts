import type { Logger } from 'pino';
import { BinanceFeed } from './binance-feed';
import type { KlineInterval } from './candle';
import type { MarketFeed } from './market-feed';
import { SimulatedFeed } from './simulated-feed';

export type MarketFeedKind = 'simulated' | 'binance';

export interface MarketFeedSettings {
  symbol: string;
  interval: KlineInterval;
  /** From config: BINANCE_FUTURES_URL / BINANCE_FUTURES_WS_URL. Hosts never live in code. */
  binanceRestUrl: string;
  binanceWsUrl: string;
  simulatedSpeed?: number;
  simulatedSeed?: number;
  historyCandles?: number;
}

export class UnknownFeedError extends Error {
  constructor(kind: string) {
    super(`Unknown market feed "${kind}": expected "simulated" or "binance"`);
    this.name = 'UnknownFeedError';
  }
}

export function createMarketFeed(kind: MarketFeedKind | string, settings: MarketFeedSettings, logger: Logger): MarketFeed {
  switch (kind) {
    case 'simulated':
      return new SimulatedFeed({
        symbol: settings.symbol,
        interval: settings.interval,
        logger,
        seed: settings.simulatedSeed,
        speed: settings.simulatedSpeed,
        historyCandles: settings.historyCandles,
      });
    case 'binance':
      return new BinanceFeed({
        symbol: settings.symbol,
        interval: settings.interval,
        logger,
        restBaseUrl: settings.binanceRestUrl,
        wsUrl: settings.binanceWsUrl,
        historyCandles: settings.historyCandles,
      });
    default:
      throw new UnknownFeedError(kind);
  }
}
