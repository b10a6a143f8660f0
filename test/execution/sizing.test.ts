import Decimal from 'decimal.js';
import type { SymbolFilters } from '../../src/engine/exchange/exchange-gateway';
import { marketClosable, sizeCloseOrder, sizeOpenOrder, type OpenSizingInput, type SizingResult } from '../../src/engine/execution/sizing';

const d = (v: string | number) => new Decimal(v);

// BTCUSDT's rules in Binance's fixtures (notes/binance.md §0.7).
const BTCUSDT: SymbolFilters = {
  symbol: 'BTCUSDT',
  tickSize: d('0.10'),
  stepSize: d('0.001'),
  minQty: d('0.001'),
  maxQty: d('1000'),
  minNotional: d('100'),
};

const open = (over: Partial<OpenSizingInput>): SizingResult =>
  sizeOpenOrder({
    direction: 'LONG',
    equity: d('10000'),
    maxPositionPct: d('0.10'),
    strength: d('1'),
    leverage: 1,
    price: d('65000'),
    filters: BTCUSDT,
    ...over,
  });

function expectOrder(result: SizingResult) {
  if (result.kind !== 'order') throw new Error(`expected an order, got skip: ${result.reason}`);
  return { side: result.side, quantity: result.quantity.toFixed(), reduceOnly: result.reduceOnly, notional: result.notional.toFixed() };
}

function expectSkip(result: SizingResult): string {
  if (result.kind !== 'skip') throw new Error(`expected a skip, got an order of ${result.quantity.toFixed()}`);
  return result.reason;
}

describe('sizeOpenOrder', () => {
  it('sizes a long: equity × pct × strength × leverage / price, a BUY that is not reduce-only', () => {
    // 10000 × 0.10 × 0.8 × 5 = 4000 USDT; 4000 / 65000 = 0.06153… → 0.061
    const result = open({ strength: d('0.8'), leverage: 5 });
    expect(expectOrder(result)).toEqual({ side: 'BUY', quantity: '0.061', reduceOnly: false, notional: '3965' });
  });

  it('sizes a short the same way, as a SELL', () => {
    const result = open({ direction: 'SHORT', strength: d('0.8'), leverage: 5 });
    expect(expectOrder(result)).toEqual({ side: 'SELL', quantity: '0.061', reduceOnly: false, notional: '3965' });
  });

  it('rounds the quantity down to the step, never to the nearest', () => {
    // 1000 × 0.30 × 10 = 3000 USDT; 3000 / 48400 = 0.061983… : nearest would be 0.062, above the user's cap.
    const result = open({ equity: d('1000'), maxPositionPct: d('0.30'), leverage: 10, price: d('48400') });
    expect(expectOrder(result)).toMatchObject({ quantity: '0.061', notional: '2952.4' });
  });

  it('scales linearly with the signal strength and caps it at 1', () => {
    const at = (strength: string) => expectOrder(open({ strength: d(strength), leverage: 10, price: d('50000') })).quantity;
    expect(at('1')).toBe('0.2');
    expect(at('0.5')).toBe('0.1');
    expect(at('0.25')).toBe('0.05');
    expect(at('1.5')).toBe('0.2');
  });

  it('skips under the exchange minimum notional, with the numbers in the reason', () => {
    const result = open({ equity: d('842.00'), maxPositionPct: d('0.05'), price: d('60000') });
    expect(expectSkip(result)).toBe(
      'order notional 42.10 USDT is below the exchange minimum 100 USDT (equity 842.00 × 5% × strength 1.00 × leverage 1)',
    );
  });

  it('skips when rounding down to the step brings the notional under the minimum', () => {
    // 2010 × 5% = 100.50 USDT is enough, but 0.001675 BTC rounds down to 0.001 BTC = 60 USDT.
    const result = open({ equity: d('2010'), maxPositionPct: d('0.05'), price: d('60000') });
    expect(expectSkip(result)).toBe(
      'order notional 60.00 USDT after rounding the quantity down to 0.001 BTC is below the exchange minimum 100 USDT ' +
        '(100.50 USDT at price 60000.00: equity 2010.00 × 5% × strength 1.00 × leverage 1)',
    );
  });

  it('skips under the minimum quantity when the venue allows a small notional', () => {
    const result = open({ equity: d('1000'), maxPositionPct: d('0.05'), price: d('60000'), filters: { ...BTCUSDT, minNotional: d('5') } });
    expect(expectSkip(result)).toBe(
      'order quantity 0.000 BTC (rounded down to the step 0.001) is below the exchange minimum 0.001 BTC ' +
        '(50.00 USDT at price 60000.00: equity 1000.00 × 5% × strength 1.00 × leverage 1)',
    );
  });

  it('caps the quantity at the exchange maximum', () => {
    const result = open({ equity: d('100000000'), maxPositionPct: d('0.30'), leverage: 125, price: d('60000') });
    expect(expectOrder(result).quantity).toBe('1000');
  });

  it('skips with a reason when there is no equity or the strength is zero', () => {
    expect(expectSkip(open({ equity: d('0') }))).toBe('no margin to trade with: equity is 0.00 USDT');
    expect(expectSkip(open({ strength: d('0') }))).toBe("the signal's strength 0.00 asks for no position");
  });

  it('never exceeds the allowed notional and always lands on the step', () => {
    let seed = 42;
    let sized = 0;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 500; i++) {
      const input = {
        equity: d((next() * 50000 + 100).toFixed(8)),
        maxPositionPct: d((next() * 0.3 + 0.0001).toFixed(4)),
        strength: d(next().toFixed(6)),
        leverage: 1 + Math.floor(next() * 125),
        price: d((next() * 100000 + 1000).toFixed(1)),
      };
      const result = open(input);
      if (result.kind === 'skip') continue;
      sized += 1;
      const allowed = input.equity.mul(input.maxPositionPct).mul(input.strength).mul(input.leverage);
      expect(result.quantity.mul(input.price).lte(allowed)).toBe(true);
      expect(result.quantity.mod(BTCUSDT.stepSize).isZero()).toBe(true);
      expect(result.notional.gte(BTCUSDT.minNotional)).toBe(true);
    }
    expect(sized).toBeGreaterThan(250);
  });

  it('refuses a non-integer leverage or a non-positive price as a programming error', () => {
    expect(() => open({ leverage: 2.5 })).toThrow(RangeError);
    expect(() => open({ price: d('0') })).toThrow(RangeError);
  });
});

describe('sizeCloseOrder', () => {
  it('closes a long with a reduce-only SELL of the whole position', () => {
    const result = sizeCloseOrder({ positionAmt: d('0.123'), price: d('60000') });
    expect(expectOrder(result)).toEqual({ side: 'SELL', quantity: '0.123', reduceOnly: true, notional: '7380' });
  });

  it('closes a short with a reduce-only BUY of its absolute size', () => {
    const result = sizeCloseOrder({ positionAmt: d('-0.5'), price: d('60000') });
    expect(expectOrder(result)).toEqual({ side: 'BUY', quantity: '0.5', reduceOnly: true, notional: '30000' });
  });

  it('closes a position below the minimum notional: reduce-only orders are exempt and an exit is never refused', () => {
    const result = sizeCloseOrder({ positionAmt: d('0.001'), price: d('60000') });
    expect(expectOrder(result)).toMatchObject({ side: 'SELL', quantity: '0.001', reduceOnly: true });
  });

  it('skips when there is nothing to close', () => {
    expect(expectSkip(sizeCloseOrder({ positionAmt: d('0'), price: d('60000') }))).toBe('no open position to close');
  });
});

describe('what a market order can close (MARKET_LOT_SIZE coarser than the position\'s step)', () => {
  const market = { symbol: 'BTCUSDT', stepSize: d('0.01'), minQty: d('0.01'), maxQty: d('2.005') };

  it('rounds DOWN to the market step whichever side the position is on, never up past it', () => {
    expect(marketClosable(d('0.029'), market).toFixed()).toBe('0.02');
    // A short's size: toward zero, never -0.03 (a BUY larger than the short would be refused as reduce-only).
    expect(marketClosable(d('-0.029'), market).toFixed()).toBe('0.02');
    expect(marketClosable(d('-0.03'), market).toFixed()).toBe('0.03');
  });

  it('caps at the market maximum, on the step', () => {
    expect(marketClosable(d('-150'), market).toFixed()).toBe('2');
  });

  it('is nothing for dust below one step or under the minimum', () => {
    expect(marketClosable(d('0.009'), market).isZero()).toBe(true);
    expect(marketClosable(d('-0.019'), { ...market, minQty: d('0.02') }).isZero()).toBe(true);
  });

  it('a CLOSE of nothing but dust is skipped with its reason instead of being sent to be refused', () => {
    expect(expectSkip(sizeCloseOrder({ positionAmt: d('-0.009'), price: d('50000'), filters: market }))).toBe(
      'the position 0.009 BTC is below the smallest market order (0.01, in steps of 0.01): a market order cannot close it',
    );
    // A closable position keeps its own size: the gateway rounds it down to 0.02 at the boundary.
    expect(expectOrder(sizeCloseOrder({ positionAmt: d('-0.029'), price: d('50000'), filters: market }))).toMatchObject({ side: 'BUY', quantity: '0.029' });
  });
});
