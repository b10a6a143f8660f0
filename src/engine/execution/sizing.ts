import Decimal from 'decimal.js';
import type { SymbolFilters } from '../exchange/exchange-gateway';

export type OrderSide = 'BUY' | 'SELL';

export type SizingResult =
  | { kind: 'order'; side: OrderSide; quantity: Decimal; reduceOnly: boolean; notional: Decimal }
  | { kind: 'skip'; reason: string };

export interface OpenSizingInput {
  direction: 'LONG' | 'SHORT';
  /** Margin balance in the quote asset (AccountSnapshot.equity). */
  equity: Decimal;
  /** The user's cap, a ratio in (0, 1]: 0.05 = 5 % of equity as margin. */
  maxPositionPct: Decimal;
  /** The signal's strength in [0, 1]. */
  strength: Decimal;
  /** Integer 1–125, validated when the config was saved. */
  leverage: number;
  /** The price the quantity is computed at (the signal's reference or the mark price). */
  price: Decimal;
  filters: SymbolFilters;
}

export interface CloseSizingInput {
  /** Signed as in PositionSnapshot: > 0 long, < 0 short. */
  positionAmt: Decimal;
  /** Only used to report the notional. */
  price: Decimal;
  /**
   * The symbol's market-order rules: an exit larger than the largest market order closes that much now, the rest later;
   * with `minQty`, a position no market order can close (see marketClosable) is skipped, not sent to be refused.
   */
  filters?: Pick<SymbolFilters, 'stepSize' | 'maxQty'> & Partial<Pick<SymbolFilters, 'minQty' | 'symbol'>>;
}

/**
 * Every operation of the sizing chain truncates toward zero, with far more
 * digits than any price or balance carries, so no intermediate rounding can
 * push the quantity above what the user's settings allow.
 */
const Exact = Decimal.clone({ precision: 50, rounding: Decimal.ROUND_DOWN });

const skip = (reason: string): SizingResult => ({ kind: 'skip', reason });

/** OPEN: margin = equity × maxPositionPct × strength; notional = margin × leverage; quantity = notional / price. */
export function sizeOpenOrder(input: OpenSizingInput): SizingResult {
  const { equity, maxPositionPct, leverage, price, filters } = input;
  if (!Number.isInteger(leverage) || leverage < 1) throw new RangeError(`leverage must be an integer ≥ 1, got ${leverage}`);
  if (!price.gt(0)) throw new RangeError(`price must be positive, got ${price.toString()}`);
  if (!filters.stepSize.gt(0)) throw new RangeError(`step size must be positive, got ${filters.stepSize.toString()}`);

  const { base, quote } = assetsOf(filters.symbol);
  // A strength above 1 would let a signal exceed the user's own cap: the cap wins.
  const strength = Decimal.min(input.strength, 1);
  if (!equity.gt(0)) return skip(`no margin to trade with: equity is ${money(equity)} ${quote}`);
  if (!maxPositionPct.gt(0)) return skip('the maximum position size is set to 0%');
  if (!strength.gt(0)) return skip(`the signal's strength ${strength.toFixed(2)} asks for no position`);

  const formula = `equity ${money(equity)} × ${percent(maxPositionPct)} × strength ${strength.toFixed(2)} × leverage ${leverage}`;
  const targetNotional = new Exact(equity).mul(maxPositionPct).mul(strength).mul(leverage);
  if (targetNotional.lt(filters.minNotional)) {
    return skip(`order notional ${money(targetNotional)} ${quote} is below the exchange minimum ${filters.minNotional.toString()} ${quote} (${formula})`);
  }

  // Rounded DOWN to the step: an order never exceeds what the user allowed; rounding up would.
  let quantity = floorToStep(targetNotional.div(price), filters.stepSize);
  if (filters.maxQty.gt(0) && quantity.gt(filters.maxQty)) quantity = floorToStep(new Exact(filters.maxQty), filters.stepSize);
  const qtyDigits = filters.stepSize.decimalPlaces();
  const atPrice = `${money(targetNotional)} ${quote} at price ${money(price)}: ${formula}`;
  if (quantity.isZero() || quantity.lt(filters.minQty)) {
    return skip(`order quantity ${quantity.toFixed(qtyDigits)} ${base} (rounded down to the step ${filters.stepSize.toString()}) is below the exchange minimum ${filters.minQty.toString()} ${base} (${atPrice})`);
  }
  const notional = new Exact(quantity).mul(price);
  if (notional.lt(filters.minNotional)) {
    return skip(`order notional ${money(notional)} ${quote} after rounding the quantity down to ${quantity.toFixed(qtyDigits)} ${base} is below the exchange minimum ${filters.minNotional.toString()} ${quote} (${atPrice})`);
  }
  return {
    kind: 'order',
    side: input.direction === 'LONG' ? 'BUY' : 'SELL',
    quantity,
    reduceOnly: false,
    notional: new Decimal(notional.toFixed()),
  };
}

/**
 * CLOSE: the whole position, reduce-only, on the opposite side. The quantity
 * is the exchange's own figure, not re-rounded here; the gateway rounds it DOWN
 * to the market step at the boundary, so where MARKET_LOT_SIZE is coarser than
 * LOT_SIZE a remainder below one market step stays open (see marketClosable).
 * Only a position above the largest market order is cut to that maximum (the
 * rest stays the strategy's, closed next). No minimum-notional check either:
 * reduce-only orders are exempt (Binance -4164 "unless reduce only"), and an
 * exit must never be refused for being small.
 */
export function sizeCloseOrder(input: CloseSizingInput): SizingResult {
  const { positionAmt, price, filters } = input;
  if (positionAmt.isZero()) return skip('no open position to close');
  const lot = filters?.minQty ? { ...filters, minQty: filters.minQty } : null;
  if (lot && marketClosable(positionAmt, lot).isZero()) {
    const base = lot.symbol ? ` ${assetsOf(lot.symbol).base}` : '';
    return skip(`the position ${positionAmt.abs().toFixed()}${base} is ${belowMarketOrder(lot)}: a market order cannot close it`);
  }
  let quantity = positionAmt.abs();
  if (filters && filters.maxQty.gt(0) && filters.maxQty.isFinite() && quantity.gt(filters.maxQty)) {
    // Down to the step, never up: a reduce-only order above the market maximum is refused whole.
    quantity = filters.stepSize.gt(0) ? floorToStep(new Exact(filters.maxQty), filters.stepSize) : filters.maxQty;
  }
  return {
    kind: 'order',
    side: positionAmt.gt(0) ? 'SELL' : 'BUY',
    quantity,
    reduceOnly: true,
    notional: quantity.mul(price),
  };
}

type MarketLot = Pick<SymbolFilters, 'stepSize' | 'minQty' | 'maxQty'>;

/**
 * The part of a position one MARKET order can take off, as the exchange boundary
 * will send it: the size capped at the market maximum and rounded DOWN to the
 * market step, never up (a reduce-only order above the position is refused);
 * zero when that is under the market minimum. A remainder it leaves is dust
 * only a LIMIT order could close: it must not hold up the strategy's next OPEN.
 */
export function marketClosable(positionAmt: Decimal, filters: MarketLot): Decimal {
  let quantity = positionAmt.abs();
  if (filters.maxQty.gt(0) && filters.maxQty.isFinite() && quantity.gt(filters.maxQty)) quantity = filters.maxQty;
  if (filters.stepSize.gt(0)) quantity = floorToStep(quantity, filters.stepSize);
  return quantity.isZero() || quantity.lt(filters.minQty) ? new Decimal(0) : quantity;
}

/** For a reason: "below the smallest market order (0.01, in steps of 0.01)". */
export const belowMarketOrder = (filters: MarketLot) =>
  `below the smallest market order (${filters.minQty.toFixed()}, in steps of ${filters.stepSize.toFixed()})`;

/** Rounded down to a whole number of steps, explicitly (toward zero, whatever the sign). */
export function floorToStep(quantity: Decimal, step: Decimal): Decimal {
  const floored = new Exact(quantity).div(step).toDecimalPlaces(0, Decimal.ROUND_DOWN).mul(step);
  return new Decimal(floored.toFixed());
}

/** Money for a human: truncated, so a figure just under a limit never prints as the limit itself. */
const money = (value: Decimal) => value.toFixed(2, Decimal.ROUND_DOWN);

const percent = (ratio: Decimal) => `${ratio.mul(100).toString()}%`;

const QUOTE_ASSETS = ['USDT', 'USDC', 'FDUSD', 'BUSD'];

function assetsOf(symbol: string): { base: string; quote: string } {
  const quote = QUOTE_ASSETS.find((q) => symbol.endsWith(q) && symbol.length > q.length);
  return quote ? { base: symbol.slice(0, -quote.length), quote } : { base: '', quote: '' };
}
