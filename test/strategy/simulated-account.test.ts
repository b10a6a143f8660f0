import Decimal from 'decimal.js';
import { SimulatedAccount } from '../../src/engine/backtest/simulated-account';
import { sizeOpenOrder } from '../../src/engine/execution/sizing';
import { PositionSide } from '../../src/entities/enums';

const d = (v: Decimal.Value) => new Decimal(v);

describe("the backtest's simulated account sizes with the live executor's sizing", () => {
  it('never above equity × fraction × leverage, even where a 20-digit intermediate would round up onto the next step', () => {
    // 9999.9999999999999999 × 3 / 10,000 = 2.99999999999999999997 BTC: 2.999 on the step; rounded to 20 digits first, it would be 3.
    const rules = { leverage: d(3), fraction: d(1), feeRate: d(0), stepSize: d('0.001') };
    const account = new SimulatedAccount(d('9999.9999999999999999'), rules);
    account.open(PositionSide.LONG, d(10_000), 1, 0);
    account.close(d(10_000), 1, false);
    const live = sizeOpenOrder({
      direction: 'LONG', equity: d('9999.9999999999999999'), maxPositionPct: d(1), strength: d(1), leverage: 3, price: d(10_000),
      filters: { symbol: 'BTCUSDT', tickSize: d('0.1'), stepSize: d('0.001'), minQty: d(0), maxQty: d(Infinity), minNotional: d(0) },
    });
    expect(account.trades.map((t) => t.quantity.toFixed())).toEqual(['2.999']);
    expect(live.kind === 'order' && live.quantity.toFixed()).toBe('2.999');
  });

  it('an OPEN that rounds to nothing is skipped, as live sizing skips it', () => {
    const account = new SimulatedAccount(d('10'), { leverage: d(1), fraction: d('0.1'), feeRate: d(0), stepSize: d('0.001') });
    // 10 × 10 % / 50,000 = 0.00002 BTC: below one step.
    account.open(PositionSide.SHORT, d(50_000), 1, 0);
    expect([account.skippedOpens, account.openSide]).toEqual([1, PositionSide.FLAT]);
  });
});
