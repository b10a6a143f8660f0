import Decimal from 'decimal.js';
import { parseFilters } from '../../src/engine/exchange/binance-exchange-info-cache';
import { sizeCloseOrder } from '../../src/engine/execution/sizing';
import { applyFillToCycle, type ValuedFill } from '../../src/engine/ledger/fill-ledger';
import { isNewer } from '../../src/engine/ledger/order-result';
import { OrderStatus } from '../../src/entities/enums';
import { at, d, fill, orderResult } from './ledger-kit';

const valued = (f: Parameters<typeof fill>[0], commissionUsdt: Decimal.Value = '0'): ValuedFill => ({ ...fill(f), commissionUsdt: new Decimal(commissionUsdt) });
const flat = { qty: d(0), realized: d(0), commission: d(0), fills: 0, startedAt: null, lastFillAt: null };

describe('a round trip counted from fills', () => {
  it('closes a long once, when the last partial exit brings it to zero', () => {
    let cycle = applyFillToCycle(flat, valued({ id: '1', side: 'BUY', qty: '1', time: at(0) }, '2')).cycle;
    const first = applyFillToCycle(cycle, valued({ id: '2', side: 'SELL', qty: '0.4', realizedPnl: d('8'), time: at(1) }, '1'));
    expect(first.closed).toBeNull();
    cycle = first.cycle;
    const last = applyFillToCycle(cycle, valued({ id: '3', side: 'SELL', qty: '0.6', realizedPnl: d('12'), time: at(2) }, '1.5'));
    expect(last.closed).toMatchObject({ side: 'LONG', fills: 3, openedAt: at(0), closedAt: at(2) });
    expect([last.closed!.realizedPnl.toFixed(), last.closed!.commission.toFixed(), last.closed!.netPnl.toFixed()]).toEqual(['20', '4.5', '15.5']);
    expect(last.cycle).toMatchObject({ fills: 0, startedAt: null });
    expect(last.cycle.qty.isZero()).toBe(true);
  });

  it('a short that loses is a losing close; commission paid on the way in counts against it', () => {
    const open = applyFillToCycle(flat, valued({ id: '1', side: 'SELL', qty: '0.5', time: at(0) }, '5')).cycle;
    const close = applyFillToCycle(open, valued({ id: '2', side: 'BUY', qty: '0.5', realizedPnl: d('3'), time: at(9) }, '5'));
    expect(close.closed!.side).toBe('SHORT');
    expect(close.closed!.netPnl.toFixed()).toBe('-7');
  });

  it('a fill through zero closes one side and opens the other with its remainder', () => {
    const open = applyFillToCycle(flat, valued({ id: '1', side: 'BUY', qty: '0.2', time: at(0) })).cycle;
    const flip = applyFillToCycle(open, valued({ id: '2', side: 'SELL', qty: '0.5', realizedPnl: d('-1'), time: at(3) }));
    expect(flip.closed).toMatchObject({ side: 'LONG', fills: 2 });
    expect(flip.cycle.qty.toFixed()).toBe('-0.3');
    expect(flip.cycle).toMatchObject({ fills: 1, startedAt: at(3) });
  });
});

describe('market order rules', () => {
  it('take the stricter of LOT_SIZE and MARKET_LOT_SIZE', () => {
    const filters = parseFilters('BTCUSDT', [
      { filterType: 'LOT_SIZE', minQty: '0.001', maxQty: '1000', stepSize: '0.001' },
      { filterType: 'MARKET_LOT_SIZE', minQty: '0.002', maxQty: '120', stepSize: '0.01' },
      { filterType: 'MIN_NOTIONAL', notional: '100' },
    ]);
    expect([filters.stepSize.toFixed(), filters.minQty.toFixed(), filters.maxQty.toFixed()]).toEqual(['0.01', '0.002', '120']);
  });

  it('an exit above the market maximum is cut to it, rounded down to the step', () => {
    const sizing = sizeCloseOrder({ positionAmt: d('-150.5'), price: d('50000'), filters: { stepSize: d('0.01'), maxQty: d('120.005') } });
    expect(sizing).toMatchObject({ kind: 'order', side: 'BUY', reduceOnly: true });
    expect(sizing.kind === 'order' && sizing.quantity.toFixed()).toBe('120');
    const whole = sizeCloseOrder({ positionAmt: d('0.0015'), price: d('50000'), filters: { stepSize: d('0.001'), maxQty: d('120') } });
    // Not re-rounded below the maximum: dust would stay open.
    expect(whole.kind === 'order' && whole.quantity.toFixed()).toBe('0.0015');
  });
});

describe('an order report is news only when it moves the order forward', () => {
  const stored = (status: OrderStatus, executed: string) => ({ status, executedQty: executed });
  it.each([
    [stored(OrderStatus.PENDING, '0'), orderResult({ clientOrderId: 'a', status: 'NEW', executedQty: d(0) }), true],
    [stored(OrderStatus.NEW, '0'), orderResult({ clientOrderId: 'a', status: 'PARTIALLY_FILLED', executedQty: d('0.1') }), true],
    [stored(OrderStatus.FILLED, '0.1'), orderResult({ clientOrderId: 'a', status: 'NEW', executedQty: d(0) }), false],
    [stored(OrderStatus.FILLED, '0.1'), orderResult({ clientOrderId: 'a', status: 'FILLED', executedQty: d('0.1') }), false],
    [stored(OrderStatus.PARTIALLY_FILLED, '0.1'), orderResult({ clientOrderId: 'a', status: 'EXPIRED', executedQty: d('0.1') }), true],
    // "Never placed" was our guess: the exchange's word outranks it.
    [stored(OrderStatus.FAILED, '0'), orderResult({ clientOrderId: 'a', status: 'FILLED', executedQty: d('0.1') }), true],
  ])('%j then %j → %s', (order, result, expected) => {
    expect(isNewer(order, result)).toBe(expected);
  });
});
