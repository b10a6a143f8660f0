import type Decimal from 'decimal.js';

/**
 * Slippage of a fill against the signal's reference price, as a ratio signed
 * against the user: positive means worse than the reference (bought above it,
 * sold below it), negative means better. Same convention as
 * `UserExecution.slippage`; that column holds 10 decimals, so round there.
 */
export function slippageRatio(side: 'BUY' | 'SELL', fillPrice: Decimal, referencePrice: Decimal): Decimal {
  if (!referencePrice.gt(0)) throw new RangeError(`reference price must be positive, got ${referencePrice.toString()}`);
  const worseBy = side === 'BUY' ? fillPrice.minus(referencePrice) : referencePrice.minus(fillPrice);
  return worseBy.div(referencePrice);
}
