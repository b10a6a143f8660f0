import Decimal from 'decimal.js';
import { SignalAction } from '../../src/entities/enums';
import { runBacktest } from '../../src/engine/backtest/backtest';
import { formatBacktestReport } from '../../src/engine/backtest/backtest-report';
import { renderEquitySvg } from '../../src/engine/backtest/equity-svg';
import { flat, loadFixture, long, ScriptedWitness, short, candleAt } from './strategy-test-kit';

describe('backtest', () => {
  const candles = loadFixture('btcusdt-15m-sim-seed42.csv');

  it('pins the totals on the 1000-candle fixture', () => {
    const r = runBacktest({ candles, startingBalance: '10000', leverage: 3, fraction: '0.2' });
    expect(r.candles).toBe(1000);
    expect(r.signals).toHaveLength(31);
    expect(r.trades).toHaveLength(16);
    expect(r.finalEquity.toFixed()).toBe('9954.28822624');
    expect(r.totalReturn.toFixed()).toBe('-0.004571177376');
    expect(r.maxDrawdown.toFixed(10)).toBe('0.0290780957');
    expect(r.winRate?.toFixed()).toBe('0.25');
    expect(r.feesPaid.toFixed()).toBe('40.58517376');
    // Money adds up: equity moves by exactly the trades' net PnL.
    const net = r.trades.reduce((sum, t) => sum.plus(t.netPnl), new Decimal(0));
    expect(r.startingBalance.plus(net).toFixed()).toBe(r.finalEquity.toFixed());
    expect(r.trades.reduce((sum, t) => sum.plus(t.fees), new Decimal(0)).toFixed()).toBe(r.feesPaid.toFixed());
  });

  it('prices one long and one short trade exactly (fees 0.04 % per side, quantity rounded down to 0.001)', () => {
    const script = (i: number) => (i === 1 ? long() : i === 3 ? short() : i === 5 ? flat() : undefined);
    const panel = [{ witness: new ScriptedWitness('w', (i) => script(i) ?? (i === 2 ? long() : i === 4 ? short() : flat())), weight: 1 }];
    const prices = ['100.0', '100.0', '110.0', '120.0', '108.0', '90.0', '90.0'];
    const r = runBacktest({
      candles: prices.map((p, i) => candleAt(i, p)),
      startingBalance: '1000',
      leverage: 2,
      fraction: '0.5',
      strategy: { witnesses: panel, cooldownCandles: 0 },
    });
    expect(r.signals.map((s) => s.action)).toEqual([SignalAction.OPEN_LONG, SignalAction.CLOSE, SignalAction.OPEN_SHORT, SignalAction.CLOSE]);
    const [l, s] = r.trades;
    // Long: 1000 × 0.5 × 2 = 1000 notional at 100 → 10 BTC; +20 × 10 = 200; fees 0.4 + 0.48.
    expect([l.side, l.quantity.toFixed(), l.grossPnl.toFixed(), l.fees.toFixed(), l.netPnl.toFixed()]).toEqual(['LONG', '10', '200', '0.88', '199.12']);
    // Short from 120 with equity 1199.12 → 1199.12 / 120 = 9.99266… → 9.992; +30 × 9.992 = 299.76; fees 0.479616 + 0.359712.
    expect([s.side, s.quantity.toFixed(), s.grossPnl.toFixed(), s.netPnl.toFixed()]).toEqual(['SHORT', '9.992', '299.76', '298.920672']);
    expect(r.finalEquity.toFixed()).toBe('1498.040672');
    expect(r.winRate?.toFixed()).toBe('1');
  });

  it('writes a readable report and an SVG equity curve', () => {
    const r = runBacktest({ candles });
    const report = formatBacktestReport(r, 'fixture');
    expect(report).toContain('Total return:    -0.46%');
    expect(report).toContain('Max drawdown:    2.91%');
    const svg = renderEquitySvg(r.equityCurve, { title: 'Equity <fixture>' });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).toContain('Equity &#60;fixture&#62;');
    expect(svg.match(/points="([^"]*)"/)![1].split(' ')).toHaveLength(1000);
  });

  it('refuses nonsense settings', () => {
    expect(() => runBacktest({ candles, leverage: 0 })).toThrow('leverage');
    expect(() => runBacktest({ candles, fraction: '1.5' })).toThrow('fraction');
    expect(() => runBacktest({ candles, startingBalance: '-1' })).toThrow('starting balance');
  });
});
