import { USDMClient } from 'binance';
import Decimal from 'decimal.js';
import type { Logger } from 'pino';
import type { ConversionRates } from '../ledger/conversion-rates';
import type { BinanceGatewayFactory } from './binance-gateway-factory';
import { mapBinanceError } from './error-mapper';

const MINUTE_MS = 60_000;

/**
 * USDT values of other assets (commission paid in BNB, a transfer in another
 * coin) from Binance's public `<ASSET>USDT` one-minute klines at the moment it
 * happened: the close of that minute. Keyless, through the process's traffic
 * gate, cached per asset and minute.
 */
export class BinanceConversionRates implements ConversionRates {
  private readonly client: USDMClient;
  private readonly cache = new Map<string, Promise<Decimal | null>>();

  constructor(private readonly binance: BinanceGatewayFactory, futuresUrl: string, private readonly logger: Logger) {
    this.client = new USDMClient({ baseUrl: futuresUrl, disableTimeSync: true }, { timeout: 5_000 });
  }

  async usdtValue(asset: string, amount: Decimal, at: Date): Promise<Decimal | null> {
    if (asset === 'USDT') return amount;
    const minute = Math.floor(at.getTime() / MINUTE_MS) * MINUTE_MS;
    const key = `${asset}:${minute}`;
    let price = this.cache.get(key);
    if (!price) {
      price = this.priceAt(asset, minute);
      this.cache.set(key, price);
      // A failed lookup is not remembered: the reconciler values the movement later.
      void price.then((p) => p === null && this.cache.delete(key));
      if (this.cache.size > 10_000) this.cache.delete(this.cache.keys().next().value!);
    }
    const p = await price;
    return p ? amount.times(p) : null;
  }

  private async priceAt(asset: string, minute: number): Promise<Decimal | null> {
    try {
      await this.binance.traffic.gate(1, 'background');
      const rows = (await this.client.getKlines({ symbol: `${asset}USDT`, interval: '1m', startTime: minute, limit: 1 })) as unknown as Array<
        [number, string, string, string, string]
      >;
      const row = rows.find((r) => Number(r[0]) === minute) ?? rows[0];
      return row ? new Decimal(row[4]) : null;
    } catch (raw) {
      this.logger.warn({ asset, kind: mapBinanceError(raw).kind }, 'no USDT price for this asset yet');
      return null;
    }
  }
}
