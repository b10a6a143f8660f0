import Decimal from 'decimal.js';

/** Values an amount of an asset in USDT at a moment (commission paid in BNB, income in another asset). */
export interface ConversionRates {
  /** Null when no price is known for that asset at that time (yet): the caller stores it unvalued. */
  usdtValue(asset: string, amount: Decimal, at: Date): Promise<Decimal | null>;
}

/** USDT is its own value; every other asset needs a price source. */
export const usdtOnly: ConversionRates = {
  async usdtValue(asset, amount) {
    return asset === 'USDT' ? amount : null;
  },
};
