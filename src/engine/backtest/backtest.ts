import Decimal from 'decimal.js';
import pino from 'pino';
import type { Logger } from 'pino';
import { PositionSide, SignalAction } from '../../entities/enums';
import type { Candle, KlineInterval } from '../market/candle';
import type { OrchestratorConfig } from '../strategy/orchestrator';
import { Orchestrator } from '../strategy/orchestrator';
import type { StrategySignal } from '../strategy/strategy-signal';
import type { BacktestTrade } from './simulated-account';
import { SimulatedAccount } from './simulated-account';

export interface BacktestOptions {
  candles: readonly Candle[];
  symbol?: string;
  interval?: KlineInterval;
  startingBalance?: Decimal.Value;
  leverage?: Decimal.Value;
  /** Share of equity used as margin per position (× signal strength). */
  fraction?: Decimal.Value;
  /** Taker fee rate; Binance USDⓈ-M default 0.0004. */
  feeRate?: Decimal.Value;
  stepSize?: Decimal.Value;
  /** Panel and rules; the defaults are the live ones. */
  strategy?: Omit<OrchestratorConfig, 'symbol' | 'interval' | 'logger'>;
  logger?: Logger;
}

export interface EquityPoint {
  time: number;
  equity: Decimal;
}

export interface BacktestResult {
  candles: number;
  signals: StrategySignal[];
  trades: BacktestTrade[];
  startingBalance: Decimal;
  finalEquity: Decimal;
  /** finalEquity / startingBalance − 1. */
  totalReturn: Decimal;
  /** Largest peak-to-trough fall of the close-to-close equity curve, as a fraction of the peak. */
  maxDrawdown: Decimal;
  /** Share of trades with positive net PnL; null with no trades. */
  winRate: Decimal | null;
  feesPaid: Decimal;
  skippedOpens: number;
  equityCurve: EquityPoint[];
}

/** Runs the live orchestrator and witnesses over candles and trades their signals on a simulated account. */
export function runBacktest(options: BacktestOptions): BacktestResult {
  const startingBalance = new Decimal(options.startingBalance ?? 10_000);
  const leverage = new Decimal(options.leverage ?? 3);
  const fraction = new Decimal(options.fraction ?? 0.2);
  if (!startingBalance.gt(0)) throw new Error('starting balance must be positive');
  if (!leverage.isInteger() || leverage.lt(1) || leverage.gt(125)) throw new Error('leverage must be a whole number 1–125');
  if (!fraction.gt(0) || fraction.gt(1)) throw new Error('fraction must be in (0, 1]');
  const orchestrator = new Orchestrator({
    ...options.strategy,
    symbol: options.symbol ?? 'BTCUSDT',
    interval: options.interval ?? '15m',
    logger: options.logger ?? pino({ level: 'silent' }),
  });
  const account = new SimulatedAccount(startingBalance, {
    leverage,
    fraction,
    feeRate: new Decimal(options.feeRate ?? '0.0004'),
    stepSize: new Decimal(options.stepSize ?? '0.001'),
  });
  const signals: StrategySignal[] = [];
  const equityCurve: EquityPoint[] = [];
  for (const candle of options.candles) {
    const price = new Decimal(candle.close);
    for (const signal of orchestrator.step(candle)) {
      signals.push(signal);
      if (signal.action === SignalAction.CLOSE) account.close(price, candle.openTime, false);
      else account.open(signal.action === SignalAction.OPEN_LONG ? PositionSide.LONG : PositionSide.SHORT, price, signal.strength, candle.openTime);
    }
    equityCurve.push({ time: candle.openTime, equity: account.equity(price) });
  }
  const last = options.candles[options.candles.length - 1];
  if (last) account.close(new Decimal(last.close), last.openTime, true);
  const finalEquity = last ? account.equity(new Decimal(last.close)) : startingBalance;
  if (equityCurve.length) equityCurve[equityCurve.length - 1] = { time: last.openTime, equity: finalEquity };

  const wins = account.trades.filter((t) => t.netPnl.gt(0)).length;
  return {
    candles: options.candles.length,
    signals,
    trades: account.trades,
    startingBalance,
    finalEquity,
    totalReturn: finalEquity.div(startingBalance).minus(1),
    maxDrawdown: maxDrawdown(equityCurve),
    winRate: account.trades.length ? new Decimal(wins).div(account.trades.length) : null,
    feesPaid: account.feesPaid,
    skippedOpens: account.skippedOpens,
    equityCurve,
  };
}

function maxDrawdown(curve: readonly EquityPoint[]): Decimal {
  let peak: Decimal | null = null;
  let worst = new Decimal(0);
  for (const { equity } of curve) {
    if (peak === null || equity.gt(peak)) peak = equity;
    if (peak.gt(0)) {
      const dd = peak.minus(equity).div(peak);
      if (dd.gt(worst)) worst = dd;
    }
  }
  return worst;
}
