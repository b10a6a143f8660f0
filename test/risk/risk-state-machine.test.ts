import Decimal from 'decimal.js';
import { applyFillToCycle, type ValuedFill } from '../../src/engine/ledger/fill-ledger';
import { MovementKind } from '../../src/entities/account-movement.entity';
import { LockKind, movementChange, stepRisk, type RiskChange, type RiskFigures, type RiskLimits } from '../../src/engine/risk/risk-guard';

const d = (v: Decimal.Value) => new Decimal(v);
const LIMITS: RiskLimits = { maxDrawdown: d('0.2'), maxDailyLossPct: d('0.05'), maxWeeklyLossPct: d('0.1'), maxConsecutiveLosses: 3 };
const NEW_USER: RiskFigures = {
  equityHighWater: null, dayStart: null, dayStartEquity: null, weekStart: null, weekStartEquity: null, consecutiveLosses: 0,
  isLocked: false, lockKind: null, lastEquity: null,
};

interface Row {
  at: string;
  change: RiskChange;
  /** What the state shows after the step: [dailyLoss, weeklyLoss, drawdown, streak, locked kind or '-', event]. */
  expect: [string, string, string, number, string, string];
}

/** Runs a golden fixture through the state machine with a fixed clock, as the monitor would, one event at a time. */
function play(rows: Row[], limits = LIMITS, start = NEW_USER) {
  let figures = start;
  const trace: Array<Row['expect']> = [];
  const reasons: string[] = [];
  for (const row of rows) {
    const step = stepRisk(figures, row.change, new Date(row.at), limits);
    figures = step.figures;
    const a = step.assessment;
    const lock = a?.lock ?? step.streakLock;
    if (step.streakLock) figures = { ...figures, isLocked: true, lockKind: step.streakLock.kind };
    if (lock) reasons.push(lock.reason);
    const event = lock ? 'LOCKED' : a?.lifted ? 'LIFTED' : '-';
    trace.push([
      a ? a.dailyLoss.toFixed(2) : '-', a ? a.weeklyLoss.toFixed(2) : '-', a ? a.currentDrawdown.toFixed(4, Decimal.ROUND_DOWN) : '-', figures.consecutiveLosses,
      figures.isLocked ? figures.lockKind! : '-', event,
    ]);
  }
  return { trace, reasons, figures };
}

const expected = (rows: Row[]) => rows.map((r) => r.expect);

describe('the risk state machine (golden fixtures, fixed clock, UTC)', () => {
  it('a losing day locks at the daily limit with the numbers in the reason, and lifts itself the next UTC day', () => {
    const rows: Row[] = [
      { at: '2026-03-03T09:00:00Z', change: { equity: d('10000') }, expect: ['0.00', '0.00', '0.0000', 0, '-', '-'] },
      { at: '2026-03-03T10:00:00Z', change: { equityDelta: d('-300') }, expect: ['300.00', '300.00', '0.0300', 0, '-', '-'] },
      { at: '2026-03-03T11:00:00Z', change: { equity: d('9204.44') }, expect: ['795.56', '795.56', '0.0795', 0, 'DAILY_LOSS', 'LOCKED'] },
      // Further losses while locked lock nothing more.
      { at: '2026-03-03T12:00:00Z', change: { equity: d('9100') }, expect: ['900.00', '900.00', '0.0900', 0, 'DAILY_LOSS', '-'] },
      // Wednesday: a new UTC day. The day starts from the last equity seen, so its loss restarts at zero; the week's does not.
      { at: '2026-03-04T00:00:05Z', change: {}, expect: ['0.00', '900.00', '0.0900', 0, '-', 'LIFTED'] },
    ];
    const { trace, reasons } = play(rows);
    expect(trace).toEqual(expected(rows));
    expect(reasons).toEqual(['daily loss 795.56 USDT = 7.96 % of start-of-day equity 10,000.00, limit 5 %']);
  });

  it('a deposit, a withdrawal and a transfer in the middle of a losing day move the marks, never the loss', () => {
    const rows: Row[] = [
      { at: '2026-03-03T09:00:00Z', change: { equity: d('10000') }, expect: ['0.00', '0.00', '0.0000', 0, '-', '-'] },
      { at: '2026-03-03T09:30:00Z', change: { equity: d('9600') }, expect: ['400.00', '400.00', '0.0400', 0, '-', '-'] },
      // +5,000 deposited: equity 14,600 against a day that now started at 15,000; still a 400 loss, not a 4,600 gain.
      { at: '2026-03-03T10:00:00Z', change: { capital: { amount: d('5000'), at: new Date('2026-03-03T10:00:00Z') } }, expect: ['400.00', '400.00', '0.0266', 0, '-', '-'] },
      { at: '2026-03-03T10:00:01Z', change: { equity: d('14600') }, expect: ['400.00', '400.00', '0.0266', 0, '-', '-'] },
      // −2,500 withdrawn (a sixth of the account): no loss, no drawdown.
      { at: '2026-03-03T11:00:00Z', change: { capital: { amount: d('-2500'), at: new Date('2026-03-03T11:00:00Z') } }, expect: ['400.00', '400.00', '0.0320', 0, '-', '-'] },
      { at: '2026-03-03T11:00:01Z', change: { equity: d('12100') }, expect: ['400.00', '400.00', '0.0320', 0, '-', '-'] },
      // A transfer out to spot, same rule.
      { at: '2026-03-03T12:00:00Z', change: { capital: { amount: d('-100'), at: new Date('2026-03-03T12:00:00Z') } }, expect: ['400.00', '400.00', '0.0322', 0, '-', '-'] },
      // A real loss of 250 more: 650 of a 12,400 day start is 5.24 %: locked.
      { at: '2026-03-03T13:00:00Z', change: { equity: d('11750') }, expect: ['650.00', '650.00', '0.0524', 0, 'DAILY_LOSS', 'LOCKED'] },
    ];
    const { trace, reasons } = play(rows);
    expect(trace).toEqual(expected(rows));
    expect(reasons).toEqual(['daily loss 650.00 USDT = 5.24 % of start-of-day equity 12,400.00, limit 5 %']);
  });

  it('a withdrawal of a quarter of the account locks nothing', () => {
    const rows: Row[] = [
      { at: '2026-03-03T09:00:00Z', change: { equity: d('10000') }, expect: ['0.00', '0.00', '0.0000', 0, '-', '-'] },
      { at: '2026-03-03T09:01:00Z', change: { capital: { amount: d('-2500'), at: new Date('2026-03-03T09:01:00Z') } }, expect: ['0.00', '0.00', '0.0000', 0, '-', '-'] },
      { at: '2026-03-03T09:01:01Z', change: { equity: d('7500') }, expect: ['0.00', '0.00', '0.0000', 0, '-', '-'] },
    ];
    expect(play(rows).trace).toEqual(expected(rows));
  });

  it('a movement we cannot name never hides a loss: money out is a loss, money in is no profit; only known capital moves the marks', () => {
    const moved = (kind: MovementKind, amount: string, at: string) => movementChange(kind, d(amount), new Date(at))!;
    const rows: Row[] = [
      { at: '2026-03-03T09:00:00Z', change: { equity: d('10000') }, expect: ['0.00', '0.00', '0.0000', 0, '-', '-'] },
      { at: '2026-03-03T09:30:00Z', change: { equity: d('9700') }, expect: ['300.00', '300.00', '0.0300', 0, '-', '-'] },
      // An unnamed credit of 300 (a bonus, a rebate, a reason added after our mapping) does not offset the day's 300 loss.
      { at: '2026-03-03T10:00:00Z', change: moved(MovementKind.OTHER, '300', '2026-03-03T10:00:00Z'), expect: ['300.00', '300.00', '0.0291', 0, '-', '-'] },
      { at: '2026-03-03T10:00:01Z', change: { equity: d('10000') }, expect: ['300.00', '300.00', '0.0291', 0, '-', '-'] },
      // Binance's INSURANCE_CLEAR (no kind of ours) takes 300: a loss like any result, 600 of a 10,300 day start: locked.
      { at: '2026-03-03T11:00:00Z', change: moved(MovementKind.OTHER, '-300', '2026-03-03T11:00:00Z'), expect: ['600.00', '600.00', '0.0582', 0, 'DAILY_LOSS', 'LOCKED'] },
      // The balance that follows on the stream repeats the figure; nothing counts twice.
      { at: '2026-03-03T11:00:01Z', change: { equity: d('9700') }, expect: ['600.00', '600.00', '0.0582', 0, 'DAILY_LOSS', '-'] },
    ];
    const { trace, reasons } = play(rows);
    expect(trace).toEqual(expected(rows));
    expect(reasons).toEqual(['daily loss 600.00 USDT = 5.83 % of start-of-day equity 10,300.00, limit 5 %']);
    // What each kind tells risk: capital only for what we know the user moved; funding a result; fills come as the fill.
    const at = new Date('2026-03-03T12:00:00Z');
    expect(Object.values(MovementKind).map((kind) => [kind, movementChange(kind, d('-5'), at)])).toEqual([
      [MovementKind.REALIZED_PNL, null],
      [MovementKind.COMMISSION, null],
      [MovementKind.FUNDING_FEE, { equityDelta: d('-5') }],
      [MovementKind.DEPOSIT, { capital: { amount: d('-5'), at } }],
      [MovementKind.WITHDRAWAL, { capital: { amount: d('-5'), at } }],
      [MovementKind.TRANSFER, { capital: { amount: d('-5'), at } }],
      [MovementKind.OTHER, { equityDelta: d('-5') }],
    ]);
    expect(movementChange(MovementKind.OTHER, null, at)).toBeNull();
  });

  it('the week starts on Monday: a weekly lock from Sunday lifts on Monday, and losses carry across days inside the week', () => {
    const limits = { ...LIMITS, maxDailyLossPct: d('0.5') };
    const rows: Row[] = [
      { at: '2026-03-02T08:00:00Z', change: { equity: d('10000') }, expect: ['0.00', '0.00', '0.0000', 0, '-', '-'] },
      // A new day starts from the equity last seen (Monday's): the loss since then counts as Wednesday's.
      { at: '2026-03-04T08:00:00Z', change: { equity: d('9500') }, expect: ['500.00', '500.00', '0.0500', 0, '-', '-'] },
      { at: '2026-03-08T20:00:00Z', change: { equity: d('8990') }, expect: ['510.00', '1010.00', '0.1010', 0, 'WEEKLY_LOSS', 'LOCKED'] },
      { at: '2026-03-09T00:00:01Z', change: {}, expect: ['0.00', '0.00', '0.1010', 0, '-', 'LIFTED'] },
    ];
    const { trace, reasons } = play(rows, limits);
    expect(trace).toEqual(expected(rows));
    expect(reasons[0]).toBe('weekly loss 1,010.00 USDT = 10.10 % of start-of-week equity 10,000.00, limit 10 %');
  });

  it('drawdown from the high-water mark locks until an admin lifts it (a new day does not)', () => {
    const limits = { ...LIMITS, maxDailyLossPct: d('1'), maxWeeklyLossPct: d('1') };
    const rows: Row[] = [
      { at: '2026-03-02T08:00:00Z', change: { equity: d('10000') }, expect: ['0.00', '0.00', '0.0000', 0, '-', '-'] },
      { at: '2026-03-02T09:00:00Z', change: { equity: d('12500') }, expect: ['0.00', '0.00', '0.0000', 0, '-', '-'] },
      { at: '2026-03-05T09:00:00Z', change: { equity: d('10000') }, expect: ['2500.00', '0.00', '0.2000', 0, 'DRAWDOWN', 'LOCKED'] },
      { at: '2026-03-06T09:00:00Z', change: { equity: d('10100') }, expect: ['0.00', '0.00', '0.1920', 0, 'DRAWDOWN', '-'] },
    ];
    const { trace, reasons } = play(rows, limits);
    expect(trace).toEqual(expected(rows));
    expect(reasons[0]).toBe('drawdown 20.00 % from the equity high-water mark 12,500.00 USDT (equity 10,000.00), limit 20 %');
  });

  it('losing closes in a row: a win breaks the streak, the third loss in a row locks', () => {
    const rows: Row[] = [
      { at: '2026-03-03T09:00:00Z', change: { equity: d('10000') }, expect: ['0.00', '0.00', '0.0000', 0, '-', '-'] },
      { at: '2026-03-03T09:10:00Z', change: { close: d('-10') }, expect: ['0.00', '0.00', '0.0000', 1, '-', '-'] },
      { at: '2026-03-03T09:20:00Z', change: { close: d('-10') }, expect: ['0.00', '0.00', '0.0000', 2, '-', '-'] },
      { at: '2026-03-03T09:30:00Z', change: { close: d('25') }, expect: ['0.00', '0.00', '0.0000', 0, '-', '-'] },
      { at: '2026-03-03T09:40:00Z', change: { close: d('-1') }, expect: ['0.00', '0.00', '0.0000', 1, '-', '-'] },
      { at: '2026-03-03T09:50:00Z', change: { close: d('-1') }, expect: ['0.00', '0.00', '0.0000', 2, '-', '-'] },
      { at: '2026-03-03T10:00:00Z', change: { close: d('-1') }, expect: ['0.00', '0.00', '0.0000', 3, 'LOSS_STREAK', 'LOCKED'] },
      // A win does not lift a streak lock: an admin does.
      { at: '2026-03-03T10:10:00Z', change: { close: d('40') }, expect: ['0.00', '0.00', '0.0000', 0, 'LOSS_STREAK', '-'] },
    ];
    const { trace, reasons } = play(rows);
    expect(trace).toEqual(expected(rows));
    expect(reasons).toEqual(['3 losing closes in a row reached the limit of 3']);
  });

  it('long and short round trips, one closing in three partial fills, count one close each; funding moves the equity but is no close', () => {
    const fill = (side: 'BUY' | 'SELL', qty: string, pnl: string, fee: string, at: string): ValuedFill => ({
      symbol: 'BTCUSDT', exchangeTradeId: at, exchangeOrderId: 'o', side, price: d('50000'), quantity: d(qty), realizedPnl: d(pnl),
      commission: d(fee), commissionAsset: 'USDT', commissionUsdt: d(fee), time: new Date(at),
    });
    // A long opened and closed in three partial fills (a loss), then a short round trip (a loss).
    const fills = [
      fill('BUY', '0.3', '0', '6', '2026-03-03T09:00:00Z'),
      fill('SELL', '0.1', '-40', '2', '2026-03-03T09:30:00Z'),
      fill('SELL', '0.1', '-40', '2', '2026-03-03T09:30:01Z'),
      fill('SELL', '0.1', '-40', '2', '2026-03-03T09:30:02Z'),
      fill('SELL', '0.2', '0', '4', '2026-03-03T10:00:00Z'),
      fill('BUY', '0.2', '-10', '4', '2026-03-03T10:30:00Z'),
    ];
    let cycle = { qty: d(0), realized: d(0), commission: d(0), fills: 0, startedAt: null as Date | null, lastFillAt: null as Date | null };
    let wallet = d('10000');
    const rows: Row[] = [{ at: '2026-03-03T08:00:00Z', change: { equity: d('10000') }, expect: ['0.00', '0.00', '0.0000', 0, '-', '-'] }];
    const out: Row[] = [];
    for (const f of fills) {
      const step = applyFillToCycle(cycle, f);
      cycle = step.cycle;
      wallet = wallet.plus(f.realizedPnl).minus(f.commissionUsdt!);
      // As the monitor hears them: the fill (its fee), the close if it ended one, then the stream's balance (flat here: equity = wallet).
      out.push({ at: f.time.toISOString(), change: { equityDelta: f.commissionUsdt!.neg() }, expect: ['', '', '', 0, '', ''] });
      if (step.closed) out.push({ at: f.time.toISOString(), change: { close: step.closed.netPnl }, expect: ['', '', '', 0, '', ''] });
      if (cycle.qty.isZero()) out.push({ at: f.time.toISOString(), change: { equity: wallet }, expect: ['', '', '', 0, '', ''] });
    }
    const funding: Row = { at: '2026-03-03T16:00:00Z', change: { equityDelta: d('-2.5') }, expect: ['', '', '', 0, '', ''] };
    const { trace } = play([...rows, ...out, funding]);
    // Two closes (one per round trip, the first of three partial exits) make a streak of two; funding adds a loss, not a close.
    expect(trace.map((t) => t[3])).toEqual([0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2]);
    // 6 + 3 × 42 + 4 + 14 of fills and fees, 2.5 of funding.
    expect(trace[trace.length - 1]).toEqual(['152.50', '152.50', '0.0152', 2, '-', '-']);
  });
});
