import { USDMClient } from 'binance';
import type { KlineInterval } from './candle';

export interface KlineQuery {
  symbol: string;
  interval: KlineInterval;
  startTime?: number;
  endTime?: number;
  limit: number;
}

/** The one REST call the feed needs; an interface so tests can count or fail calls. */
export interface KlineRestSource {
  fetchKlines(query: KlineQuery): Promise<readonly (readonly unknown[])[]>;
}

/** GET /fapi/v1/klines through the `binance` package, against the configured base URL. */
export class BinanceKlineRest implements KlineRestSource {
  private readonly client: USDMClient;

  constructor(baseUrl: string, timeoutMs = 10_000) {
    // The package's default axios timeout is 5 minutes: far too long to notice a dead backfill.
    this.client = new USDMClient({ baseUrl, disableTimeSync: true }, { timeout: timeoutMs });
  }

  async fetchKlines(query: KlineQuery): Promise<readonly (readonly unknown[])[]> {
    return this.client.getKlines({ ...query });
  }
}
