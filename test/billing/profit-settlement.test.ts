import { createMigratedOrm } from '../support/test-database';
import { addMovements, addPlanChange, addSnapshot, addUser, daysOf, SetClock, settlementOn, utc } from './billing-kit';

/**
 * The ProfitTracker's arithmetic pinned to the last decimal against a real
 * PostgreSQL, with a fixed clock: golden figures worked out by hand in the
 * comments, each in its own month so the tests never see each other's days.
 */
describe('daily profit settlement (golden figures)', () => {
  let db: Awaited<ReturnType<typeof createMigratedOrm>>;
  beforeAll(async () => {
    db = await createMigratedOrm('billing');
  });
  afterAll(() => db.close());

  const clock = new SetClock(utc('2027-01-01T00:10'));
  const daily = () => settlementOn(db.orm, clock, 'daily');
  const hwm = () => settlementOn(db.orm, clock, 'high_water_mark');
  const sql = (text: string, params: unknown[] = []) => db.orm.em.fork().execute(text, params);

  it('a profitable day: realized PnL − commission (USDT and BNB at its USDT value) + funding, PRO 10 %, the fee rounded at the 10th decimal', async () => {
    const user = await addUser(db.orm, { plan: 'PRO' });
    await addSnapshot(db.orm, user, '10000', '2026-03-01T23:00');
    await addMovements(db.orm, user, [
      { kind: 'REALIZED_PNL', amount: '120.5', at: '2026-03-02T09:00' },
      { kind: 'COMMISSION', amount: '-0.4', at: '2026-03-02T09:00' },
      { kind: 'REALIZED_PNL', amount: '30.2512345678', at: '2026-03-02T15:00' },
      // 0.0005 BNB at 625 USDT: the ledger stored its USDT value at the trade.
      { kind: 'COMMISSION', amount: '-0.0005', asset: 'BNB', usdt: '-0.3125', at: '2026-03-02T15:00' },
      { kind: 'FUNDING_FEE', amount: '-1.2345678901', at: '2026-03-02T16:00' },
      // Capital the user moved: never profit.
      { kind: 'DEPOSIT', amount: '1000', at: '2026-03-02T12:00' },
    ]);
    await addSnapshot(db.orm, user, '11147.5', '2026-03-02T23:30');
    // A snapshot after the day is the next day's business.
    await addSnapshot(db.orm, user, '99999', '2026-03-03T00:00:01');

    expect(await daily().settle(utc('2026-03-02'), { actorId: null })).toMatchObject({ settled: 1, deferred: 0, final: true });
    // gross = 120.5 + 30.2512345678 − 0.4 − 0.3125 − 1.2345678901 = 148.8041666777
    // fee   = 148.8041666777 × 0.1 = 14.88041666777 → 14.8804166678 (10 decimals, half up)
    // net   = 148.8041666777 − 14.8804166678 = 133.9237500099
    expect(await daysOf(db.orm, user)).toEqual([{
      day: '2026-03-02', plan: 'PRO', start: '10000.0000000000', end: '11147.5000000000', gross: '148.8041666777', rate: '0.10000000',
      fee: '14.8804166678', net: '133.9237500099', final: true,
    }]);
    // What gross was made of, kept with the day for its invoice line.
    expect(await sql(`select realized_pnl, commission, funding, capital_flows, billable, movement_count, high_water_mark from user_profits where user_id = ?`, [user])).toEqual([{
      realized_pnl: '150.7512345678', commission: '0.7125000000', funding: '-1.2345678901', capital_flows: '1000.0000000000', billable: '148.8041666777',
      movement_count: 6, high_water_mark: null,
    }]);
  });

  it('a losing day: fee 0 at the plan\'s rate, net = gross', async () => {
    const user = await addUser(db.orm, { plan: 'BASIC' });
    await addMovements(db.orm, user, [
      { kind: 'REALIZED_PNL', amount: '-200', at: '2026-04-03T10:00' },
      { kind: 'COMMISSION', amount: '-0.5', at: '2026-04-03T10:00' },
      { kind: 'FUNDING_FEE', amount: '0.25', at: '2026-04-03T16:00' },
    ]);
    await daily().settle(utc('2026-04-03'), { actorId: null });
    expect(await daysOf(db.orm, user)).toEqual([{
      day: '2026-04-03', plan: 'BASIC', start: '0.0000000000', end: '0.0000000000', gross: '-200.2500000000', rate: '0.20000000',
      fee: '0.0000000000', net: '-200.2500000000', final: true,
    }]);
  });

  it('a mixed month in daily mode: every profitable day billed, losses never carried forward', async () => {
    const user = await addUser(db.orm, { plan: 'FREE' });
    await addMovements(db.orm, user, [
      { kind: 'REALIZED_PNL', amount: '100', at: '2026-05-05T10:00' },
      { kind: 'REALIZED_PNL', amount: '-80', at: '2026-05-06T10:00' },
      { kind: 'REALIZED_PNL', amount: '50', at: '2026-05-07T10:00' },
    ]);
    for (const day of ['2026-05-05', '2026-05-06', '2026-05-07']) await daily().settle(utc(day), { actorId: null });
    // 30 % of 100, nothing on the loss, 30 % of 50 (not of 50 − 80): 45 in all, on a month that made 70.
    expect((await daysOf(db.orm, user)).map((r) => [r.day, r.gross, r.fee, r.net])).toEqual([
      ['2026-05-05', '100.0000000000', '30.0000000000', '70.0000000000'],
      ['2026-05-06', '-80.0000000000', '0.0000000000', '-80.0000000000'],
      ['2026-05-07', '50.0000000000', '15.0000000000', '35.0000000000'],
    ]);
  });

  it('a plan change mid-month: the plan in force at each day\'s 00:00 UTC sets that day\'s rate', async () => {
    const user = await addUser(db.orm, { plan: 'PRO', createdAt: '2026-01-10T08:00' });
    await addPlanChange(db.orm, user, 'FREE', '2026-01-10T08:00');
    await addPlanChange(db.orm, user, 'PRO', '2026-06-15T10:00');
    await addMovements(db.orm, user, [
      { kind: 'REALIZED_PNL', amount: '10', at: '2026-06-14T12:00' },
      // The upgrade came at 10:00: the 15th started on FREE and stays FREE.
      { kind: 'REALIZED_PNL', amount: '10', at: '2026-06-15T12:00' },
      { kind: 'REALIZED_PNL', amount: '10', at: '2026-06-16T12:00' },
    ]);
    for (const day of ['2026-06-14', '2026-06-15', '2026-06-16']) await daily().settle(utc(day), { actorId: null });
    expect((await daysOf(db.orm, user)).map((r) => [r.day, r.plan, r.rate, r.fee])).toEqual([
      ['2026-06-14', 'FREE', '0.30000000', '3.0000000000'],
      ['2026-06-15', 'FREE', '0.30000000', '3.0000000000'],
      ['2026-06-16', 'PRO', '0.10000000', '1.0000000000'],
    ]);
  });

  it('a fee below the 10th decimal rounds half up; a day that only moved capital has no profit', async () => {
    const tiny = await addUser(db.orm, { plan: 'FREE' });
    const mover = await addUser(db.orm, { plan: 'FREE' });
    await addMovements(db.orm, tiny, [{ kind: 'REALIZED_PNL', amount: '0.0000000005', at: '2026-07-01T10:00' }]);
    await addMovements(db.orm, mover, [{ kind: 'DEPOSIT', amount: '5000', at: '2026-07-01T10:00' }, { kind: 'WITHDRAWAL', amount: '-100', at: '2026-07-01T11:00' }]);
    await daily().settle(utc('2026-07-01'), { actorId: null });
    // 0.0000000005 × 0.3 = 0.00000000015 → 0.0000000002
    expect((await daysOf(db.orm, tiny)).map((r) => [r.gross, r.fee, r.net])).toEqual([['0.0000000005', '0.0000000002', '0.0000000003']]);
    expect((await daysOf(db.orm, mover)).map((r) => [r.gross, r.fee])).toEqual([['0.0000000000', '0.0000000000']]);
  });

  it('settling a day again charges once: unchanged it writes nothing; with movements the ledger learned of late it recomputes the day, never adds to it', async () => {
    const user = await addUser(db.orm, { plan: 'PRO' });
    await addMovements(db.orm, user, [{ kind: 'REALIZED_PNL', amount: '40', at: '2026-08-04T10:00' }]);
    const settlement = daily();
    expect((await settlement.settle(utc('2026-08-04'), { actorId: null })).settled).toBe(1);
    expect((await settlement.settle(utc('2026-08-04'), { actorId: null })).settled).toBe(0);
    expect((await daysOf(db.orm, user)).map((r) => r.fee)).toEqual(['4.0000000000']);
    // The reconciler finds a fill the stream missed, after the day was settled.
    await addMovements(db.orm, user, [{ kind: 'REALIZED_PNL', amount: '-15', at: '2026-08-04T22:00' }]);
    expect((await settlement.settle(utc('2026-08-04'), { actorId: null })).settled).toBe(1);
    expect((await daysOf(db.orm, user)).map((r) => [r.gross, r.fee])).toEqual([['25.0000000000', '2.5000000000']]);
    // Once invoiced, a day is frozen: a later movement is reported, not billed.
    const [inv] = await sql(
      `insert into invoices (id, user_id, period_start, period_end, plan, status, due_at, created_at, updated_at)
       values (gen_random_uuid(), ?, '2026-08-01', '2026-09-01', 'PRO', 'OPEN', now(), now(), now()) returning id`,
      [user],
    );
    await sql(`update user_profits set invoice_id = ? where user_id = ?`, [inv.id, user]);
    await addMovements(db.orm, user, [{ kind: 'REALIZED_PNL', amount: '100', at: '2026-08-04T23:00' }]);
    expect(await settlement.settle(utc('2026-08-04'), { actorId: null })).toMatchObject({ settled: 0, late: 1 });
    expect((await daysOf(db.orm, user)).map((r) => r.fee)).toEqual(['2.5000000000']);
  });

  it('defers a user-day with a commission not valued yet, settles the others, and settles it once the ledger values it', async () => {
    const waiting = await addUser(db.orm, { plan: 'PRO' });
    const ready = await addUser(db.orm, { plan: 'PRO' });
    const [, bnb] = await addMovements(db.orm, waiting, [
      { kind: 'REALIZED_PNL', amount: '10', at: '2026-09-20T10:00' },
      { kind: 'COMMISSION', amount: '-0.001', asset: 'BNB', usdt: null, at: '2026-09-20T10:00' },
    ]);
    await addMovements(db.orm, ready, [{ kind: 'REALIZED_PNL', amount: '10', at: '2026-09-20T10:00' }]);
    const at = new SetClock(utc('2026-09-21T00:05'));
    const settlement = settlementOn(db.orm, at);
    expect(await settlement.settle(utc('2026-09-20'), { actorId: null })).toMatchObject({ settled: 1, deferred: 1 });
    expect(await daysOf(db.orm, waiting)).toEqual([]);
    expect(await sql(`select reason, unvalued from profit_deferrals where user_id = ?`, [waiting])).toEqual([
      { reason: '1 movement(s) without a USDT value yet', unvalued: 1 },
    ]);
    // The reconciler values it (0.001 BNB at 600); the next day's job retries the deferred day.
    await sql(`update account_movements set usdt_value = '-0.6' where id = ?`, [bnb]);
    at.at = utc('2026-09-22T00:05');
    const run = await settlement.catchUp();
    // From the day before the last settled one (a refresh for late movements) through yesterday.
    expect(run.days).toEqual(['2026-09-19', '2026-09-20', '2026-09-21']);
    // (10 − 0.6) × 0.1
    expect((await daysOf(db.orm, waiting)).map((r) => [r.gross, r.fee])).toEqual([['9.4000000000', '0.9400000000']]);
    expect(await sql(`select * from profit_deferrals where user_id = ?`, [waiting])).toEqual([]);
  });

  it('settles today so far as a provisional record, replaced by the final one when the day is over', async () => {
    const user = await addUser(db.orm, { plan: 'PRO' });
    await addMovements(db.orm, user, [
      { kind: 'REALIZED_PNL', amount: '20', at: '2026-10-05T08:00' },
      { kind: 'REALIZED_PNL', amount: '30', at: '2026-10-05T18:00' },
    ]);
    const at = new SetClock(utc('2026-10-05T12:00'));
    const settlement = settlementOn(db.orm, at);
    expect(await settlement.settle(utc('2026-10-05'), { actorId: null })).toMatchObject({ settled: 1, final: false });
    const [soFar] = await sql(`select period_end, gross_profit, final from user_profits where user_id = ?`, [user]);
    expect({ ...soFar, period_end: new Date(soFar.period_end) }).toEqual({ period_end: utc('2026-10-05T12:00'), gross_profit: '20.0000000000', final: false });
    at.at = utc('2026-10-06T00:05');
    expect(await settlement.settle(utc('2026-10-05'), { actorId: null })).toMatchObject({ settled: 1, final: true });
    expect((await daysOf(db.orm, user)).map((r) => [r.gross, r.fee, r.final])).toEqual([['50.0000000000', '5.0000000000', true]]);
    expect(await sql(`select final from billing_closings where kind = 'DAY' and period_start = ?`, [utc('2026-10-05')])).toEqual([{ final: true }]);
  });

  it('a settlement that fails part-way writes nothing: the day is all or nothing', async () => {
    const user = await addUser(db.orm, { plan: 'PRO' });
    await addMovements(db.orm, user, [{ kind: 'REALIZED_PNL', amount: '10', at: '2026-10-20T10:00' }]);
    // The calendar row is the run's last write: without its table the run fails after the figures were computed and inserted.
    await sql('alter table billing_closings rename to billing_closings_away');
    try {
      await expect(daily().settle(utc('2026-10-20'), { actorId: null })).rejects.toThrow();
    } finally {
      await sql('alter table billing_closings_away rename to billing_closings');
    }
    expect(await daysOf(db.orm, user)).toEqual([]);
    expect((await daily().settle(utc('2026-10-20'), { actorId: null })).settled).toBe(1);
  });

  describe('high-water-mark mode', () => {
    it('bills only the cumulative result above the last billed peak, unmoved by a withdrawal', async () => {
      const user = await addUser(db.orm, { plan: 'PRO' });
      await addSnapshot(db.orm, user, '0', '2026-11-01T00:00');
      await addMovements(db.orm, user, [
        { kind: 'DEPOSIT', amount: '10000', at: '2026-11-02T08:00' },
        { kind: 'REALIZED_PNL', amount: '500', at: '2026-11-02T10:00' },
        // A fifth of the account withdrawn, and a losing day.
        { kind: 'WITHDRAWAL', amount: '-2000', at: '2026-11-03T09:00' },
        { kind: 'REALIZED_PNL', amount: '-200', at: '2026-11-03T10:00' },
        { kind: 'REALIZED_PNL', amount: '300', at: '2026-11-04T10:00' },
        { kind: 'COMMISSION', amount: '-0.75', at: '2026-11-04T10:00' },
      ]);
      await addSnapshot(db.orm, user, '10500', '2026-11-02T23:00');
      await addSnapshot(db.orm, user, '8300', '2026-11-03T23:00');
      await addSnapshot(db.orm, user, '8599.25', '2026-11-04T23:00');
      const settlement = hwm();
      for (const day of ['2026-11-02', '2026-11-03', '2026-11-04']) await settlement.settle(utc(day), { actorId: null });
      // day 2: cumulative 500, mark 0 → 10 % of 500 = 50, mark 500
      // day 3: cumulative 300 (the withdrawal is not a loss): below the mark, no fee, mark stays 500
      // day 4: gross 299.25, cumulative 599.25 → 10 % of 99.25 = 9.925, mark 599.25
      // Equity alone would have billed nothing on day 4 (8,599.25 < 10,500) or, naively adjusted, the 2,000 again.
      const rows = await sql(
        `select period_start, gross_profit, platform_fee, cumulative_gross, high_water_mark_before, high_water_mark, starting_balance, ending_balance
         from user_profits where user_id = ? order by period_start`,
        [user],
      );
      expect(rows.map((r) => [r.gross_profit, r.cumulative_gross, r.high_water_mark_before, r.platform_fee, r.high_water_mark, r.starting_balance, r.ending_balance])).toEqual([
        ['500.0000000000', '500.0000000000', '0.0000000000', '50.0000000000', '500.0000000000', '0.0000000000', '10500.0000000000'],
        ['-200.0000000000', '300.0000000000', '500.0000000000', '0.0000000000', '500.0000000000', '10500.0000000000', '8300.0000000000'],
        ['299.2500000000', '599.2500000000', '500.0000000000', '9.9250000000', '599.2500000000', '8300.0000000000', '8599.2500000000'],
      ]);
    });

    it('settles a user\'s days in order: a day waiting for a value holds back the later ones, which follow it once it is settled', async () => {
      const user = await addUser(db.orm, { plan: 'BASIC' });
      const [, bnb] = await addMovements(db.orm, user, [
        { kind: 'REALIZED_PNL', amount: '100', at: '2026-12-07T10:00' },
        { kind: 'COMMISSION', amount: '-0.01', asset: 'BNB', usdt: null, at: '2026-12-07T10:00' },
        { kind: 'REALIZED_PNL', amount: '50', at: '2026-12-08T10:00' },
      ]);
      const at = new SetClock(utc('2026-12-09T00:05'));
      const settlement = settlementOn(db.orm, at, 'high_water_mark');
      for (const day of ['2026-12-07', '2026-12-08']) await settlement.settle(utc(day), { actorId: null });
      expect(await daysOf(db.orm, user)).toEqual([]);
      expect(await sql(`select reason from profit_deferrals where user_id = ? order by day`, [user])).toEqual([
        { reason: '1 movement(s) without a USDT value yet' },
        { reason: 'an earlier day of this user is not settled yet' },
      ]);
      await sql(`update account_movements set usdt_value = '-6' where id = ?`, [bnb]);
      at.at = utc('2026-12-10T00:05');
      await settlement.catchUp();
      // 20 % of 94, then 20 % of 50 above the mark 94.
      expect((await daysOf(db.orm, user)).map((r) => [r.day, r.gross, r.fee])).toEqual([
        ['2026-12-07', '94.0000000000', '18.8000000000'],
        ['2026-12-08', '50.0000000000', '10.0000000000'],
      ]);
    });
  });
});
