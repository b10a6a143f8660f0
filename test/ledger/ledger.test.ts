import { MovementKind } from '../../src/entities/account-movement.entity';
import { createMigratedOrm } from '../support/test-database';
import { at, d, FixedRates, fill, ledgerOn, newUser, orderResult, tradeUpdate } from './ledger-kit';

/**
 * The ledger's functions against a real PostgreSQL, with a fixed clock and no
 * server: every fact stored once whatever the source and order, one event per
 * new fact, and closes counted per round trip.
 */
describe('the ledger', () => {
  let db: Awaited<ReturnType<typeof createMigratedOrm>>;
  beforeAll(async () => {
    db = await createMigratedOrm('ledger');
  });
  afterAll(() => db.close());

  const rows = async (sql: string, params: unknown[]) => db.orm.em.fork().execute(sql, params);

  describe('fills', () => {
    it('stores a fill delivered twice by the stream once, with one event', async () => {
      const userId = await newUser(db.orm);
      const { ledger, of } = ledgerOn(db.orm);
      const order = orderResult({ clientOrderId: 'twice-1', exchangeOrderId: '9001' });
      const trade = fill({ id: 't1', side: 'BUY', qty: '0.1', exchangeOrderId: '9001' });
      await ledger.recordOrderUpdate(userId, tradeUpdate(order, trade));
      await ledger.recordOrderUpdate(userId, tradeUpdate(order, trade));
      expect(await rows('select exchange_trade_id from trades where user_id = ?', [userId])).toEqual([{ exchange_trade_id: 't1' }]);
      expect(of('FillRecorded')).toHaveLength(1);
      // The fee is a movement of its own, once.
      expect(await rows('select kind, amount, usdt_value from account_movements where user_id = ?', [userId])).toEqual([
        { kind: 'COMMISSION', amount: '-0.4000000000', usdt_value: '-0.4000000000' },
      ]);
    });

    it('stores a fill seen first by the reconciler and then by the stream once, and the order never goes backwards', async () => {
      const userId = await newUser(db.orm);
      const { ledger, of } = ledgerOn(db.orm);
      const trade = fill({ id: 'r1', side: 'BUY', qty: '0.2', exchangeOrderId: '9100' });
      expect(await ledger.recordFills(userId, [trade])).toBe(1);
      // The stream's copies arrive late and out of order: the FILLED trade, then the NEW that preceded it.
      const filled = orderResult({ clientOrderId: 'late-1', exchangeOrderId: '9100', executedQty: d('0.2'), quantity: d('0.2') });
      await ledger.recordOrderUpdate(userId, tradeUpdate(filled, trade));
      await ledger.recordOrderUpdate(userId, tradeUpdate({ ...filled, status: 'NEW', executedQty: d(0), avgPrice: null }, null));
      expect(await rows('select count(*)::int as n from trades where user_id = ?', [userId])).toEqual([{ n: 1 }]);
      expect(of('FillRecorded')).toHaveLength(1);
      expect(await rows('select status, executed_qty from orders where user_id = ?', [userId])).toEqual([{ status: 'FILLED', executed_qty: '0.2000000000' }]);
    });

    it('counts a close that fills in three parts as one close, with the PnL and fees of the whole round trip', async () => {
      const userId = await newUser(db.orm);
      const { ledger, of } = ledgerOn(db.orm);
      await ledger.recordFills(userId, [fill({ id: 'open', side: 'BUY', qty: '0.3', commission: d('6'), time: at(0) })]);
      // The exit: three partial fills of one reduce-only order, each realizing a loss.
      await ledger.recordFills(userId, [
        fill({ id: 'c1', side: 'SELL', qty: '0.1', exchangeOrderId: 'x', realizedPnl: d('-30'), commission: d('1.9'), time: at(10) }),
        fill({ id: 'c2', side: 'SELL', qty: '0.1', exchangeOrderId: 'x', realizedPnl: d('-30'), commission: d('1.9'), time: at(11) }),
      ]);
      expect(of('PositionClosed')).toHaveLength(0);
      await ledger.recordOrderUpdate(userId, tradeUpdate(
        orderResult({ clientOrderId: 'exit-3', exchangeOrderId: 'x', side: 'SELL', quantity: d('0.3'), executedQty: d('0.3'), reduceOnly: true }),
        fill({ id: 'c3', side: 'SELL', qty: '0.1', exchangeOrderId: 'x', realizedPnl: d('-30'), commission: d('1.9'), time: at(12) }),
      ));
      const closes = of('PositionClosed');
      expect(closes).toHaveLength(1);
      expect(closes[0]).toMatchObject({ side: 'LONG', fills: 4, openedAt: at(0), closedAt: at(12) });
      expect(closes[0].realizedPnl.toFixed()).toBe('-90');
      expect(closes[0].commission.toFixed()).toBe('11.7');
      expect(closes[0].netPnl.toFixed()).toBe('-101.7');
      expect(await rows('select cycle_qty, cycle_fills from positions where user_id = ?', [userId])).toEqual([{ cycle_qty: '0.0000000000', cycle_fills: 0 }]);
    });

    it('a short round trip, and a flip in one fill: the old side closes and the new one opens', async () => {
      const userId = await newUser(db.orm);
      const { ledger, of } = ledgerOn(db.orm);
      await ledger.recordFills(userId, [
        fill({ id: 's1', side: 'SELL', qty: '0.1', commission: d('2'), time: at(0) }),
        // Bought back 0.3: closes the 0.1 short at a 15 USDT profit and opens 0.2 long.
        fill({ id: 's2', side: 'BUY', qty: '0.3', realizedPnl: d('15'), commission: d('6'), time: at(5) }),
      ]);
      expect(of('PositionClosed').map((c) => [c.side, c.realizedPnl.toFixed(), c.netPnl.toFixed()])).toEqual([['SHORT', '15', '7']]);
      await ledger.recordFills(userId, [fill({ id: 's3', side: 'SELL', qty: '0.2', realizedPnl: d('-4'), commission: d('4'), time: at(9) })]);
      expect(of('PositionClosed').map((c) => [c.side, c.realizedPnl.toFixed(), c.netPnl.toFixed(), c.fills])).toEqual([
        ['SHORT', '15', '7', 2],
        ['LONG', '-4', '-8', 2],
      ]);
    });

    it('values a commission paid in BNB in USDT at the trade, and keeps its asset', async () => {
      const userId = await newUser(db.orm);
      const { ledger, of } = ledgerOn(db.orm, new FixedRates({ BNB: '612.5' }));
      await ledger.recordFills(userId, [fill({ id: 'bnb', side: 'BUY', qty: '0.1', commission: d('0.003'), commissionAsset: 'BNB' })]);
      expect(await rows('select asset, amount, usdt_value from account_movements where user_id = ?', [userId])).toEqual([
        { asset: 'BNB', amount: '-0.0030000000', usdt_value: '-1.8375000000' },
      ]);
      expect(of('FillRecorded')[0].commissionUsdt!.toFixed()).toBe('1.8375');
    });

    it('stores a commission it cannot price yet without a value, and values it once a price exists', async () => {
      const userId = await newUser(db.orm);
      const rates = new FixedRates({});
      const { ledger } = ledgerOn(db.orm, rates);
      await ledger.recordFills(userId, [fill({ id: 'np', side: 'BUY', qty: '0.1', commission: d('0.002'), commissionAsset: 'BNB' })]);
      expect(await rows('select usdt_value from account_movements where user_id = ?', [userId])).toEqual([{ usdt_value: null }]);
      rates.rates.BNB = '600';
      expect(await ledger.revalueMovements(userId)).toBe(1);
      expect(await rows('select usdt_value from account_movements where user_id = ?', [userId])).toEqual([{ usdt_value: '-1.2000000000' }]);
    });
  });

  const update = (reason: string, change: string, time: Date) => ({
    eventTime: time, reason, walletBalance: d('10000'), balanceChanges: [{ asset: 'USDT', change: d(change) }],
    positions: [{ symbol: 'BTCUSDT', positionAmt: d(0), entryPrice: d(0), markPrice: null, unrealizedPnl: d(0), leverage: null, updatedAt: time }],
  });

  describe('movements', () => {

    it('a deposit, a withdrawal and a funding fee from the stream are stored once each, and the income history adds nothing the stream had', async () => {
      const userId = await newUser(db.orm);
      const { ledger, of } = ledgerOn(db.orm);
      await ledger.recordAccountUpdate(userId, update('DEPOSIT', '500', at(0)));
      await ledger.recordAccountUpdate(userId, update('WITHDRAW', '-200', at(60)));
      await ledger.recordAccountUpdate(userId, update('FUNDING_FEE', '-1.25', at(120)));
      await ledger.recordAccountUpdate(userId, update('FUNDING_FEE', '-1.25', at(120)));
      // The income history reports the same three, its clock a second off the stream's, plus one the stream missed.
      const income = (type: string, amount: string, time: Date, tranId: string) => ({
        symbol: type === 'FUNDING_FEE' ? 'BTCUSDT' : '', incomeType: type, income: d(amount), asset: 'USDT', time, tranId, tradeId: null,
      });
      const added = await ledger.recordIncome(userId, [
        income('TRANSFER', '500', at(1), '1'),
        income('TRANSFER', '-200', at(61), '2'),
        income('FUNDING_FEE', '-1.25', at(121), '3'),
        income('FUNDING_FEE', '-0.75', at(8 * 3600), '4'),
      ]);
      expect(added).toBe(1);
      expect((await rows('select kind, raw_reason, amount from account_movements where user_id = ? order by occurred_at', [userId])).map((r: Record<string, string>) => [r.kind, r.raw_reason, r.amount])).toEqual([
        ['DEPOSIT', 'DEPOSIT', '500.0000000000'],
        ['WITHDRAWAL', 'WITHDRAW', '-200.0000000000'],
        ['FUNDING_FEE', 'FUNDING_FEE', '-1.2500000000'],
        ['FUNDING_FEE', 'FUNDING_FEE', '-0.7500000000'],
      ]);
      expect(of('MovementRecorded')).toHaveLength(4);
      expect(of('BalanceChanged')).toHaveLength(4);
    });

    it('keeps a movement with an unknown reason as OTHER with the raw reason, never dropping it', async () => {
      const userId = await newUser(db.orm);
      const { ledger } = ledgerOn(db.orm);
      await ledger.recordAccountUpdate(userId, update('SOMETHING_BINANCE_INVENTED', '3.5', at(0)));
      await ledger.recordIncome(userId, [{ symbol: '', incomeType: 'WELCOME_BONUS', income: d('10'), asset: 'USDT', time: at(500), tranId: '77', tradeId: null }]);
      expect(await rows('select kind, raw_reason, amount from account_movements where user_id = ? order by occurred_at', [userId])).toEqual([
        { kind: MovementKind.OTHER, raw_reason: 'SOMETHING_BINANCE_INVENTED', amount: '3.5000000000' },
        { kind: MovementKind.OTHER, raw_reason: 'WELCOME_BONUS', amount: '10.0000000000' },
      ]);
    });

    it("the income history's PnL and fee rows of a fill the ledger has are the same movements, by trade", async () => {
      const userId = await newUser(db.orm);
      const { ledger } = ledgerOn(db.orm);
      await ledger.recordFills(userId, [fill({ id: '555', side: 'SELL', qty: '0.1', realizedPnl: d('12'), commission: d('2') })]);
      const added = await ledger.recordIncome(userId, [
        { symbol: 'BTCUSDT', incomeType: 'REALIZED_PNL', income: d('12'), asset: 'USDT', time: at(0), tranId: '1', tradeId: '555' },
        { symbol: 'BTCUSDT', incomeType: 'COMMISSION', income: d('-2'), asset: 'USDT', time: at(0), tranId: '2', tradeId: '555' },
      ]);
      expect(added).toBe(0);
      expect(await rows('select count(*)::int as n from account_movements where user_id = ?', [userId])).toEqual([{ n: 2 }]);
    });
  });

  describe('history cursors', () => {
    it("move only with the reconciler's reads, in their transaction and never backwards; the stream's rows leave them alone", async () => {
      const userId = await newUser(db.orm);
      const { ledger } = ledgerOn(db.orm);
      expect(await ledger.syncedThrough(userId, 'income')).toBeNull();
      // A read that found nothing still records how far it got.
      await ledger.recordIncome(userId, [], { feed: 'income', through: at(600) });
      expect(await ledger.syncedThrough(userId, 'income')).toEqual(at(600));
      // The stream stores a newer movement: the cursor stays where the last read ended.
      await ledger.recordAccountUpdate(userId, update('FUNDING_FEE', '-1', at(3600)));
      expect(await ledger.syncedThrough(userId, 'income')).toEqual(at(600));
      // A slower read that ended earlier (a pass on another node) does not move it back.
      await ledger.recordIncome(userId, [], { feed: 'income', through: at(300) });
      expect(await ledger.syncedThrough(userId, 'income')).toEqual(at(600));
      await ledger.recordFills(userId, [fill({ id: 'c1', side: 'BUY', qty: '0.1', time: at(700) })], { feed: 'fills:BTCUSDT', through: at(900) });
      expect(await ledger.syncedThrough(userId, 'fills:BTCUSDT')).toEqual(at(900));
      expect(await ledger.syncedThrough(userId, 'income')).toEqual(at(600));
    });
  });

  describe('journal', () => {
    it('keeps every fact risk judges with the transaction that stored it, hands back the unjudged ones as emitted, and lets each be judged once', async () => {
      const userId = await newUser(db.orm);
      const { ledger, of } = ledgerOn(db.orm);
      await ledger.recordAccountUpdate(userId, update('WITHDRAW', '-250', at(60)));
      await ledger.recordFills(userId, [
        fill({ id: 'j1', side: 'BUY', qty: '0.1', commission: d('2'), time: at(100) }),
        fill({ id: 'j2', side: 'SELL', qty: '0.1', realizedPnl: d('-30'), commission: d('2'), time: at(200) }),
      ]);
      const emitted = [...of('MovementRecorded'), ...of('BalanceChanged'), ...of('FillRecorded'), ...of('PositionClosed')];
      expect(emitted.every((e) => typeof e.seq === 'string')).toBe(true);
      const unjudged = async (before: Date) => (await ledger.unjudgedEvents(before)).filter((e) => e.userId === userId);
      const pending = await unjudged(new Date(Date.now() + 60_000));
      expect(pending.map((e) => e.seq)).toEqual(emitted.map((e) => e.seq).sort((a, b) => Number(a) - Number(b)));
      // Decoded as emitted: money as Decimal, times as Date.
      const close = pending.find((e) => e.type === 'PositionClosed')!;
      expect(close).toEqual(of('PositionClosed')[0]);
      expect(close.type === 'PositionClosed' && close.netPnl.toFixed()).toBe('-34');
      const em = ledger.userEm(userId);
      expect(await em.transactional((tx) => ledger.claimJudgement(tx, close.seq!))).toBe(true);
      expect(await em.transactional((tx) => ledger.claimJudgement(tx, close.seq!))).toBe(false);
      // A judgement whose transaction rolls back leaves the event to be judged again.
      const movement = pending.find((e) => e.type === 'MovementRecorded')!;
      await expect(em.transactional(async (tx) => {
        await ledger.claimJudgement(tx, movement.seq!);
        throw new Error('risk could not store its state');
      })).rejects.toThrow('risk could not store');
      expect((await unjudged(new Date(Date.now() + 60_000))).map((e) => e.seq)).toContain(movement.seq);
      expect((await unjudged(new Date(Date.now() + 60_000))).map((e) => e.seq)).not.toContain(close.seq);
      // Only what was journaled before the cut-off: the in-process judgement has that long to claim it first.
      expect(await unjudged(new Date(Date.now() - 60_000))).toEqual([]);
    });
  });

  it("never reads or writes another user's rows", async () => {
    const a = await newUser(db.orm);
    const b = await newUser(db.orm);
    const { ledger } = ledgerOn(db.orm);
    await ledger.recordFills(a, [fill({ id: 'same-id', side: 'BUY', qty: '0.1' })]);
    await ledger.recordFills(b, [fill({ id: 'same-id', side: 'BUY', qty: '0.5' })]);
    expect(await rows('select user_id, quantity from trades where exchange_trade_id = ? order by quantity', ['same-id'])).toEqual([
      { user_id: a, quantity: '0.1000000000' },
      { user_id: b, quantity: '0.5000000000' },
    ]);
  });
});
