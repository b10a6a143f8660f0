import Decimal from 'decimal.js';
import { deriveClientOrderId } from '../../src/engine/execution/client-order-id';
import { ExecutionStatus, OrderOrigin, OrderSide, OrderStatus, SignalAction } from '../../src/entities/enums';
import { Order } from '../../src/entities/order.entity';
import { createMigratedOrm } from '../support/test-database';
import { ScriptedVenue } from './support/scripted-venue';
import { taskWorld, type TaskWorldOptions } from './support/task-world';

/** One user's part of a signal, on a real database, an in-memory venue and a fixed clock, no server. */
describe('the per-user task', () => {
  let db: Awaited<ReturnType<typeof createMigratedOrm>>;
  beforeAll(async () => {
    db = await createMigratedOrm('usertask');
  });
  afterAll(() => db.close());

  async function world(opts: TaskWorldOptions = {}) {
    const venue = new ScriptedVenue();
    const w = await taskWorld(db.orm, venue, { referencePrice: () => venue.price, ...opts });
    return Object.assign(w, { venue });
  }

  it('opens from flat: equity × cap × leverage at the reference price, the position the strategy\'s', async () => {
    const w = await world();
    const outcome = await w.run(SignalAction.OPEN_LONG);
    // 10,000 × 10 % × 2 / 50,000 = 0.04 BTC.
    expect(outcome).toMatchObject({ status: ExecutionStatus.PLACED, fillPrice: '50000', slippage: '0' });
    expect(w.venue.orders.map((o) => [o.side, o.quantity.toFixed(), o.reduceOnly])).toEqual([['BUY', '0.04', false]]);
    expect(await w.position()).toMatchObject({ side: 'LONG', quantity: '0.0400000000', openedByStrategy: true, closePending: false });
    expect((await w.run(SignalAction.OPEN_LONG)).reason).toBe('already long 0.0400000000 BTCUSDT');
  });

  it("sizes by the plan's cap at order time, whatever the stored setting", async () => {
    const w = await world({ maxPositionPct: '0.3', planCap: '0.05' });
    await w.run(SignalAction.OPEN_SHORT);
    // 10,000 × 5 % (the plan's cap, not the stored 30 %) × 2 / 50,000 = 0.02 BTC.
    expect(w.venue.orders.map((o) => [o.side, o.quantity.toFixed()])).toEqual([['SELL', '0.02']]);
  });

  it('a close that fills only partly leaves the rest tracked as the strategy\'s; the next CLOSE reaches it', async () => {
    const w = await world();
    await w.run(SignalAction.OPEN_LONG);
    w.venue.fillLimit = new Decimal('0.015');
    const close = await w.run(SignalAction.CLOSE);
    expect(close).toMatchObject({ status: ExecutionStatus.PLACED, reason: 'closed 0.015 of 0.04 BTCUSDT; 0.025 stays open until the next signal' });
    expect(await w.position()).toMatchObject({ side: 'LONG', quantity: '0.0250000000', openedByStrategy: true, closePending: true });
    w.venue.fillLimit = null;
    expect(await w.run(SignalAction.CLOSE)).toMatchObject({ status: ExecutionStatus.PLACED, reason: 'position closed' });
    expect(await w.position()).toMatchObject({ side: 'FLAT', openedByStrategy: false, closePending: false });
    expect(w.venue.position.isZero()).toBe(true);
  });

  it('an OPEN after a partial close first closes what the close left, then opens from flat', async () => {
    const w = await world();
    await w.run(SignalAction.OPEN_LONG);
    w.venue.fillLimit = new Decimal('0.01');
    await w.run(SignalAction.CLOSE);
    w.venue.fillLimit = null;
    const open = await w.run(SignalAction.OPEN_SHORT);
    expect(open.status).toBe(ExecutionStatus.PLACED);
    const [, , exit, opened] = w.venue.orders;
    expect([exit.side, exit.quantity.toFixed(), exit.reduceOnly]).toEqual(['SELL', '0.03', true]);
    expect([opened.side, opened.quantity.toFixed(), opened.reduceOnly]).toEqual(['SELL', '0.04', false]);
    expect(w.venue.position.toFixed()).toBe('-0.04');
    expect(await w.position()).toMatchObject({ side: 'SHORT', quantity: '0.0400000000', openedByStrategy: true, closePending: false });
  });

  it('a position above the largest market order closes that much now and the rest at the next signal', async () => {
    const w = await world();
    w.venue.position = new Decimal('150');
    w.venue.filters = { ...w.venue.filters, maxQty: new Decimal('120') };
    const close = await w.run(SignalAction.CLOSE);
    expect(w.venue.orders.map((o) => o.quantity.toFixed())).toEqual(['120']);
    expect(close.reason).toBe('closed 120 of 150 BTCUSDT; 30 stays open until the next signal');
    expect(await w.position()).toMatchObject({ side: 'LONG', quantity: '30.0000000000', closePending: true });
  });

  it('a user whose stored key cannot be decrypted gets FAILED with a clear reason, and the key is switched off', async () => {
    const w = await world({ unreadable: true });
    const outcome = await w.run(SignalAction.OPEN_LONG);
    expect(outcome).toMatchObject({ status: ExecutionStatus.FAILED, reason: 'the stored API key could not be read; set the API key and secret again' });
    expect(w.refused).toEqual([{ reason: 'the stored API key could not be read; set the API key and secret again', source: 'FAN_OUT' }]);
    expect(w.venue.orders).toHaveLength(0);
  });

  describe('the signal-lag rule (SIGNAL_MAX_LAG_MS, measured on the injected clock)', () => {
    it('an OPEN older than the allowed lag is not placed; a CLOSE always is', async () => {
      const w = await world();
      const stale = await w.run(SignalAction.OPEN_LONG, { createdAt: w.clock.ago(60_000) });
      expect(stale.status).toBe(ExecutionStatus.SKIPPED);
      expect(stale.reason).toMatch(/ms old, over the 30000 ms limit: not placed late$/);
      expect(stale.reason).toBe('signal is 60000 ms old, over the 30000 ms limit: not placed late');
      w.venue.position = new Decimal('0.01');
      expect((await w.run(SignalAction.CLOSE, { createdAt: w.clock.ago(60_000) })).status).toBe(ExecutionStatus.PLACED);
    });

    it('an OPEN exactly at the limit is placed; one millisecond over it is not, and nothing reaches the exchange', async () => {
      const w = await world();
      const over = await w.run(SignalAction.OPEN_LONG, { createdAt: w.clock.ago(30_001) });
      expect(over).toMatchObject({ status: ExecutionStatus.SKIPPED, reason: 'signal is 30001 ms old, over the 30000 ms limit: not placed late', order: null });
      expect(w.venue.orders).toHaveLength(0);
      const atLimit = await w.run(SignalAction.OPEN_LONG, { createdAt: w.clock.ago(30_000) });
      expect(atLimit.status).toBe(ExecutionStatus.PLACED);
      expect(w.venue.orders.map((o) => o.quantity.toFixed())).toEqual(['0.04']);
    });

    it('the age is counted when the task runs, not when the signal was made: time passing in between makes an OPEN late', async () => {
      const w = await world();
      const signal = await w.signal(SignalAction.OPEN_SHORT);
      w.clock.advance(30_001);
      expect((await w.execute(signal)).reason).toBe('signal is 30001 ms old, over the 30000 ms limit: not placed late');
      expect(w.venue.orders).toHaveLength(0);
    });

    it('a CLOSE is never refused for lag, however old (an exit takes risk off)', async () => {
      const w = await world();
      w.venue.position = new Decimal('-0.02');
      const close = await w.run(SignalAction.CLOSE, { createdAt: w.clock.ago(24 * 3600_000) });
      expect(close).toMatchObject({ status: ExecutionStatus.PLACED, reason: 'position closed' });
      expect(w.venue.orders.map((o) => [o.side, o.quantity.toFixed(), o.reduceOnly])).toEqual([['BUY', '0.02', true]]);
    });
  });

  it('a PENDING order the exchange does not show is sent again only once a send in flight could no longer land', async () => {
    const w = await world();
    const signal = await w.signal(SignalAction.OPEN_LONG);
    const em = db.orm.em.fork();
    // Left PENDING by a run that died after inserting the row, one second ago on the clock.
    em.create(Order, {
      user: w.userId, signal: signal.id, clientOrderId: deriveClientOrderId(w.venue.clientOrderIdPrefix(), signal.id, w.userId),
      origin: OrderOrigin.MANUAL, symbol: 'BTCUSDT', side: OrderSide.BUY, quantity: '0.04', status: OrderStatus.PENDING, createdAt: w.clock.ago(1000),
    });
    await em.flush();
    const early = await w.execute(signal);
    expect(early).toMatchObject({ status: ExecutionStatus.FAILED, reason: 'outcome unknown, reconciling', unknown: true });
    expect(w.venue.orders).toHaveLength(0);
    // 6 s after the first send (recvWindow plus a margin), "absent" means it never executed: sent once, with the same id.
    w.clock.advance(5000);
    const resumed = await w.execute(signal);
    expect(resumed.status).toBe(ExecutionStatus.PLACED);
    expect(w.venue.orders.map((o) => [o.clientOrderId, o.quantity.toFixed()])).toEqual([[resumed.order!.clientOrderId, '0.04']]);
  });

  describe('dust below the smallest market order', () => {
    // MARKET_LOT_SIZE coarser than the position's own step: a market exit rounds down and leaves the rest.
    const coarse = (w: Awaited<ReturnType<typeof world>>) => {
      w.venue.filters = { ...w.venue.filters, stepSize: new Decimal('0.01'), minQty: new Decimal('0.01') };
    };

    it('a close leaves it open, says so, and the next OPEN is placed instead of being held up by it', async () => {
      const w = await world();
      w.venue.position = new Decimal('0.045');
      coarse(w);
      const close = await w.run(SignalAction.CLOSE);
      expect(w.venue.orders.map((o) => [o.side, o.quantity.toFixed(), o.reduceOnly])).toEqual([['SELL', '0.04', true]]);
      expect(close).toMatchObject({
        status: ExecutionStatus.PLACED,
        reason: 'closed 0.04 of 0.045 BTCUSDT; 0.005 stays open, below the smallest market order (0.01, in steps of 0.01); it does not hold up the next OPEN',
      });
      expect(await w.position()).toMatchObject({ side: 'LONG', quantity: '0.0050000000', closePending: true });

      const open = await w.run(SignalAction.OPEN_LONG);
      expect(open.status).toBe(ExecutionStatus.PLACED);
      expect(w.venue.orders.map((o) => [o.side, o.quantity.toFixed(), o.reduceOnly])).toEqual([['SELL', '0.04', true], ['BUY', '0.04', false]]);
      expect(await w.position()).toMatchObject({ side: 'LONG', closePending: false, openedByStrategy: true });
    });

    it('a CLOSE of nothing but dust sends nothing and says why; an OPEN the other way is not held up either', async () => {
      const w = await world();
      w.venue.position = new Decimal('-0.004');
      coarse(w);
      // The stream reported it and it is the strategy's (not a close's leftover: closePending is not set).
      await w.ledger.recordPositions(w.userId, [await w.venue.getPosition('BTCUSDT')], 'STREAM');
      await w.ledger.claimForStrategy(w.userId, 'BTCUSDT');
      expect(await w.position()).toMatchObject({ side: 'SHORT', quantity: '0.0040000000', openedByStrategy: true, closePending: false });
      const close = await w.run(SignalAction.CLOSE);
      expect(close).toMatchObject({
        status: ExecutionStatus.SKIPPED,
        reason: 'the position 0.004 BTC is below the smallest market order (0.01, in steps of 0.01): a market order cannot close it',
      });
      expect(w.venue.orders).toHaveLength(0);
      expect((await w.run(SignalAction.OPEN_LONG)).status).toBe(ExecutionStatus.PLACED);
      expect(w.venue.position.toFixed()).toBe('0.036');
    });
  });
});
