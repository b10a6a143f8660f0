import Decimal from 'decimal.js';
import { PositionSide } from '../../entities/enums';
import type { SymbolFilters } from '../exchange/exchange-gateway';
import { sizeOpenOrder } from '../execution/sizing';

export interface BacktestTrade {
  side: PositionSide.LONG | PositionSide.SHORT;
  entryTime: number;
  exitTime: number;
  entryPrice: Decimal;
  exitPrice: Decimal;
  quantity: Decimal;
  /** Entry + exit taker fees. */
  fees: Decimal;
  /** Price PnL before fees. */
  grossPnl: Decimal;
  /** grossPnl − fees. */
  netPnl: Decimal;
  /** True when the data ended with the position open and it was closed at the last close. */
  closedAtEnd: boolean;
}

interface OpenPosition {
  side: PositionSide.LONG | PositionSide.SHORT;
  entryTime: number;
  entryPrice: Decimal;
  quantity: Decimal;
  entryFee: Decimal;
}

export interface AccountRules {
  /** A whole number 1–125, as the live settings. */
  leverage: Decimal;
  /** Share of equity committed as margin per position, before the signal's strength. */
  fraction: Decimal;
  feeRate: Decimal;
  /** Quantity step (BTCUSDT: 0.001). */
  stepSize: Decimal;
}

/**
 * A one-position futures account filled at the candle close with taker fees, sized like the live
 * executor (equity × fraction × strength × leverage). Not modelled: funding, slippage, liquidation.
 */
export class SimulatedAccount {
  private cash: Decimal;
  private position: OpenPosition | null = null;
  readonly trades: BacktestTrade[] = [];
  feesPaid = new Decimal(0);
  skippedOpens = 0;

  /** Only the step is modelled: no exchange minimum or maximum, so a backtest skips an OPEN only when it rounds to nothing. */
  private readonly filters: SymbolFilters;

  constructor(startingBalance: Decimal, private readonly rules: AccountRules) {
    this.cash = startingBalance;
    this.filters = {
      symbol: '', tickSize: new Decimal(0), stepSize: rules.stepSize, minQty: new Decimal(0), maxQty: new Decimal(Infinity), minNotional: new Decimal(0),
    };
  }

  get openSide(): PositionSide {
    return this.position?.side ?? PositionSide.FLAT;
  }

  equity(markPrice: Decimal): Decimal {
    return this.cash.plus(this.position ? this.unrealized(this.position, markPrice) : 0);
  }

  open(side: PositionSide.LONG | PositionSide.SHORT, price: Decimal, strength: number, time: number): void {
    if (this.position) this.close(price, time, false);
    // The live executor's own sizing (never a copy of it): equity × fraction × strength × leverage, rounded DOWN to the step.
    const sizing = sizeOpenOrder({
      direction: side,
      equity: this.cash,
      maxPositionPct: this.rules.fraction,
      strength: new Decimal(strength),
      leverage: this.rules.leverage.toNumber(),
      price,
      filters: this.filters,
    });
    if (sizing.kind === 'skip') {
      this.skippedOpens++;
      return;
    }
    const { quantity } = sizing;
    const fee = quantity.mul(price).mul(this.rules.feeRate);
    this.cash = this.cash.minus(fee);
    this.feesPaid = this.feesPaid.plus(fee);
    this.position = { side, entryTime: time, entryPrice: price, quantity, entryFee: fee };
  }

  close(price: Decimal, time: number, closedAtEnd: boolean): void {
    const p = this.position;
    if (!p) return;
    const gross = this.unrealized(p, price);
    const fee = p.quantity.mul(price).mul(this.rules.feeRate);
    this.cash = this.cash.plus(gross).minus(fee);
    this.feesPaid = this.feesPaid.plus(fee);
    const fees = p.entryFee.plus(fee);
    this.trades.push({
      side: p.side,
      entryTime: p.entryTime,
      exitTime: time,
      entryPrice: p.entryPrice,
      exitPrice: price,
      quantity: p.quantity,
      fees,
      grossPnl: gross,
      netPnl: gross.minus(fees),
      closedAtEnd,
    });
    this.position = null;
  }

  private unrealized(p: OpenPosition, price: Decimal): Decimal {
    const move = price.minus(p.entryPrice).mul(p.quantity);
    return p.side === PositionSide.LONG ? move : move.neg();
  }
}
