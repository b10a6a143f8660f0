import Decimal from 'decimal.js';
import type { PriceSource } from './paper-gateway';

/** Latest trade price per symbol, fed by the market feed; read by paper accounts and manual signals. */
export class PriceBook implements PriceSource {
  private readonly prices = new Map<string, { price: Decimal; at: Date }>();

  set(symbol: string, price: Decimal.Value, at = new Date()): void {
    this.prices.set(symbol, { price: new Decimal(price), at });
  }

  latestPrice(symbol: string): Decimal | null {
    return this.prices.get(symbol)?.price ?? null;
  }

  /** When the latest price was seen (for the feed-staleness metric), or null before the first. */
  updatedAt(symbol: string): Date | null {
    return this.prices.get(symbol)?.at ?? null;
  }
}
