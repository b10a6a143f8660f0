import Decimal from 'decimal.js';
import type { SubscriptionPlan } from '../../src/entities/enums';
import { accessTokenOf, createBinanceUser, waitFor, type FleetUser } from '../execution-e2e/support/binance-fleet';
import type { FakeBinance } from '../support/fake-binance';
import { INVOICE_JOB, SETTLEMENT_JOB } from '../../src/jobs/app-jobs';
import { eventually } from '../support/eventually';
import type { TestApp } from '../support/test-app';

export const DAY = 86_400_000;
export const d = (v: Decimal.Value) => new Decimal(v);

export const BROADCAST = 'mutation($a: SignalAction!) { broadcastSignal(input: { action: $a }) { results { userId status reason } } }';
export const SETTLE = 'mutation($d: DateTime!) { settleProfits(date: $d) }';
export const ISSUE = 'mutation($m: DateTime!) { issueInvoices(month: $m) }';
export const PROFIT = `query($p: PeriodType, $f: DateTime, $t: DateTime) { me { profit(period: $p, from: $f, to: $t) {
  records { periodType periodStart periodEnd startingBalance endingBalance grossProfit feeRate platformFee netProfit }
  totalGrossProfit totalPlatformFee totalNetProfit } } }`;
export const INVOICE_FIELDS = 'id userId periodStart periodEnd plan subscriptionFee profitShareFee total status lines { description amount calculation } dueAt paidAt paymentReference createdAt';
export const MY_INVOICES = `{ me { invoices { ${INVOICE_FIELDS} } } }`;
export const PAY = `mutation($id: ID!, $r: String) { markInvoicePaid(id: $id, reference: $r) { ${INVOICE_FIELDS} } }`;
export const VOID = `mutation($id: ID!, $r: String!) { voidInvoice(id: $id, reason: $r) { ${INVOICE_FIELDS} } }`;
export const ALL_INVOICES = `query($s: InvoiceStatus, $u: ID, $f: Int, $a: String) { invoices(status: $s, userId: $u, first: $f, after: $a) { items { id userId status total } nextCursor } }`;
export const PLATFORM = `query($f: DateTime, $t: DateTime) { platformProfit(from: $f, to: $t) { from to totalGrossProfit totalPlatformFee subscriptionRevenue byPlan { plan users platformFee subscriptionRevenue } } }`;

export const startOfDay = (ms: number) => new Date(Math.floor(ms / DAY) * DAY);
export const startOfMonth = (at: Date) => new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1));
export const nextMonth = (at: Date) => new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 1));

/**
 * Trades in these tests happen on the machine's real clock (the exchange's
 * times): a run that would straddle 00:00 UTC waits until the new day began,
 * so every fill of a test lands on one UTC day.
 */
export async function awayFromMidnight(marginMs = 4 * 60_000): Promise<void> {
  const toMidnight = DAY - (Date.now() % DAY);
  if (toMidnight < marginMs) await new Promise((r) => setTimeout(r, toMidnight + 2_000));
}

/** A business clock the test moves forward (the engine's and billing's "now"). */
export class MovableClock {
  offsetMs = 0;
  now = () => new Date(Date.now() + this.offsetMs);
  /** Makes `now()` read `at` from this moment on. */
  set(at: Date): void {
    this.offsetMs = at.getTime() - Date.now();
  }
}

export async function trader(t: TestApp, fake: FakeBinance, tag: string, plan: SubscriptionPlan, maxPositionPct: string) {
  const user: FleetUser = await createBinanceUser(t, fake, { tag, plan, leverage: 10, maxPositionPct });
  const token = await accessTokenOf(t, user);
  await t.app.services.engine.reconcileNow();
  await waitFor(() => fake.userConnectionCount(user.apiKey) === 1, 'the user-data stream');
  return { user, token };
}

export async function movementsOf(t: TestApp, userId: string): Promise<Array<{ kind: string; usdt_value: string | null }>> {
  return t.app.services.orm.em.fork().execute('select kind, usdt_value from account_movements where user_id = ? order by occurred_at, kind', [userId]);
}

/** The fake's USDT price of BNB for any minute asked (one kline after every time a test asks about). */
export function priceBnb(fake: FakeBinance, price: string): void {
  const later = Date.now() + 30 * DAY;
  fake.setKlines('BNBUSDT', '1m', [{ openTime: later, open: price, high: price, low: price, close: price, volume: '1', closeTime: later + 59_999 }]);
}

/**
 * Every start settles and invoices what it missed (runAtStart): a test that writes history for past days
 * waits for those runs first, or a run could settle its days before their movements exist.
 */
export async function startRunsDone(t: TestApp): Promise<void> {
  await eventually('the start runs of settlement and invoicing to finish', async () => {
    const [row] = await t.app.services.orm.em.fork().execute<Array<{ n: number }>>(
      'select count(*)::int as n from graphile_worker.jobs where task_identifier in (?, ?)', [SETTLEMENT_JOB, INVOICE_JOB],
    );
    return row.n === 0;
  });
}
