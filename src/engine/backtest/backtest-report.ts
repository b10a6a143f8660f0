import type Decimal from 'decimal.js';
import type { BacktestResult } from './backtest';

const pct = (d: Decimal) => `${d.mul(100).toFixed(2)}%`;
const date = (t: number) => new Date(t).toISOString().slice(0, 16).replace('T', ' ');

/** Plain-text report for a terminal. */
export function formatBacktestReport(result: BacktestResult, title: string): string {
  const first = result.equityCurve[0];
  const last = result.equityCurve[result.equityCurve.length - 1];
  const counts = result.signals.reduce<Record<string, number>>((acc, s) => ({ ...acc, [s.action]: (acc[s.action] ?? 0) + 1 }), {});
  const lines = [
    `Backtest: ${title}`,
    first && last ? `Period:          ${date(first.time)} → ${date(last.time)} UTC (${result.candles} candles)` : `Period:          no candles`,
    `Signals:         ${result.signals.length} (${Object.entries(counts).map(([a, n]) => `${a} ${n}`).join(', ') || 'none'})`,
    `Trades:          ${result.trades.length}${result.skippedOpens ? ` (${result.skippedOpens} opens skipped: below one quantity step)` : ''}`,
    `Win rate:        ${result.winRate ? pct(result.winRate) : 'n/a'}`,
    `Starting equity: ${result.startingBalance.toFixed(2)} USDT`,
    `Final equity:    ${result.finalEquity.toFixed(2)} USDT`,
    `Total return:    ${pct(result.totalReturn)}`,
    `Max drawdown:    ${pct(result.maxDrawdown)}`,
    `Fees paid:       ${result.feesPaid.toFixed(2)} USDT`,
    '',
  ];
  if (result.trades.length) {
    lines.push('Last trades:');
    for (const t of result.trades.slice(-10)) {
      lines.push(
        `  ${t.side.padEnd(5)} ${date(t.entryTime)} @ ${t.entryPrice.toFixed(1)} → ${date(t.exitTime)} @ ${t.exitPrice.toFixed(1)}  qty ${t.quantity.toFixed(3)}  net ${t.netPnl.toFixed(2)}${t.closedAtEnd ? ' (closed at end of data)' : ''}`,
      );
    }
    lines.push('');
  }
  lines.push('Fills at candle close with taker fees; no slippage, funding or liquidation modelled.', '');
  return lines.join('\n');
}
