import { AuditService } from '../../src/services/audit.service';
import type { BillingNotifier } from '../../src/services/billing/billing-notifier';
import { InvoiceIssuer } from '../../src/services/billing/invoice-issuer';
import { PlanHistory } from '../../src/services/billing/plan-history';
import { createMigratedOrm } from '../support/test-database';
import { addMovements, addPlanChange, addUser, logger, SetClock, settlementOn, utc } from './billing-kit';

/** Notices the issuer hands on, kept for the assertions (billing's own port, not a mocked client). */
class NoticeLog implements BillingNotifier {
  readonly invoices: string[] = [];
  async planChanged(): Promise<void> {}
  async invoiceIssued(invoiceId: string): Promise<void> {
    this.invoices.push(invoiceId);
  }
  async invoiceOverdue(): Promise<void> {}
}

/** Monthly invoices against a real PostgreSQL: proration from the plan history, the month's fees, each day billed once. */
describe('monthly invoice issuance', () => {
  let db: Awaited<ReturnType<typeof createMigratedOrm>>;
  beforeAll(async () => {
    db = await createMigratedOrm('invoices');
  });
  afterAll(() => db.close());

  const clock = new SetClock(utc('2026-04-01T01:00'));
  const sql = (text: string, params: unknown[] = []) => db.orm.em.fork().execute(text, params);
  const issuerOn = (notices = new NoticeLog()) => ({
    notices,
    issuer: new InvoiceIssuer({
      orm: db.orm, settlement: settlementOn(db.orm, clock), history: new PlanHistory(), notifier: notices, audit: new AuditService(), clock, dueDays: 14, logger,
    }),
  });
  const invoiceOf = async (userId: string) =>
    (await sql(`select plan, subscription_fee, profit_share_fee, total, status, lines, due_at, created_at from invoices where user_id = ?`, [userId]))[0];

  it('a plan change mid-month: FREE until the 15th (the upgrade came during it), PRO from the 16th, each day at its plan\'s rate', async () => {
    const user = await addUser(db.orm, { plan: 'PRO', createdAt: '2026-02-10T08:00' });
    await addPlanChange(db.orm, user, 'FREE', '2026-02-10T08:00');
    await addPlanChange(db.orm, user, 'PRO', '2026-03-15T10:00');
    await addMovements(db.orm, user, [
      { kind: 'REALIZED_PNL', amount: '100', at: '2026-03-02T12:00' },
      { kind: 'REALIZED_PNL', amount: '-40', at: '2026-03-10T12:00' },
      { kind: 'REALIZED_PNL', amount: '10', at: '2026-03-15T12:00' },
      { kind: 'REALIZED_PNL', amount: '25.55', at: '2026-03-20T12:00' },
      { kind: 'COMMISSION', amount: '-0.05', at: '2026-03-20T12:00' },
    ]);
    const { issuer, notices } = issuerOn();
    const result = await issuer.issue(utc('2026-03-01'), { actorId: null });
    expect(result.issued).toBe(1);
    const invoice = await invoiceOf(user);
    // Subscription: 99 × 16/31 = 51.096774… → 51.10 (the 15th began on FREE); profit share 30 + 3 + 2.55 = 35.55.
    expect({ ...invoice, lines: undefined, due_at: new Date(invoice.due_at), created_at: new Date(invoice.created_at) }).toEqual({
      plan: 'PRO', subscription_fee: '51.1000000000', profit_share_fee: '35.5500000000', total: '86.6500000000', status: 'OPEN', lines: undefined,
      due_at: utc('2026-04-15T01:00'), created_at: utc('2026-04-01T01:00'),
    });
    expect(invoice.lines.map((l: { description: string; amount: string }) => [l.description, l.amount])).toEqual([
      ['FREE plan, 2026-03-01 to 2026-03-15 (15 of 31 days)', '0.00'],
      ['PRO plan, 2026-03-16 to 2026-03-31 (16 of 31 days)', '51.10'],
      ['Profit share, March 2026', '35.55'],
    ]);
    expect(invoice.lines[2].calculation).toBe(
      '2026-03-02: 30 % of 100 = 30; 2026-03-15: 30 % of 10 = 3; 2026-03-20: 10 % of 25.5 = 2.55; ' +
        'no fee on 2026-03-10 (gross -40): a day without a gain is not billed and its loss is not carried forward; sum 35.55 = 35.55',
    );
    expect(notices.invoices).toEqual(result.invoiceIds);
    // Every settled day of the month is now on this invoice, and only on it.
    expect(await sql(`select count(*)::int as n from user_profits where user_id = ? and invoice_id is null`, [user])).toEqual([{ n: 0 }]);
  });

  it('is idempotent: a second run issues nothing and charges no day again', async () => {
    const user = await addUser(db.orm, { plan: 'BASIC', createdAt: '2026-01-01T00:00' });
    await addMovements(db.orm, user, [{ kind: 'REALIZED_PNL', amount: '50', at: '2026-03-05T12:00' }]);
    const { issuer } = issuerOn();
    expect((await issuer.issue(utc('2026-03-01'), { actorId: null })).issued).toBe(1);
    const again = issuerOn();
    expect((await again.issuer.issue(utc('2026-03-01'), { actorId: null })).issued).toBe(0);
    expect(again.notices.invoices).toEqual([]);
    expect((await invoiceOf(user)).total).toBe('39.0000000000');
    expect(await sql(`select count(*)::int as n from invoices where user_id = ?`, [user])).toEqual([{ n: 1 }]);
  });

  it('asks no one to pay 0.00 and never bills an admin; a day settled after its invoice goes on the next one', async () => {
    const idle = await addUser(db.orm, { plan: 'FREE', createdAt: '2026-01-01T00:00' });
    const admin = await addUser(db.orm, { plan: 'PRO', role: 'ADMIN', createdAt: '2026-01-01T00:00' });
    const late = await addUser(db.orm, { plan: 'FREE', createdAt: '2026-01-01T00:00' });
    await addMovements(db.orm, idle, [{ kind: 'REALIZED_PNL', amount: '-5', at: '2026-03-05T12:00' }]);
    await addMovements(db.orm, admin, [{ kind: 'REALIZED_PNL', amount: '500', at: '2026-03-05T12:00' }]);
    // March's last day waits for a BNB price while March is invoiced.
    await addMovements(db.orm, late, [{ kind: 'REALIZED_PNL', amount: '20', at: '2026-03-02T12:00' }]);
    const [, bnb] = await addMovements(db.orm, late, [
      { kind: 'REALIZED_PNL', amount: '10', at: '2026-03-31T23:00' },
      { kind: 'COMMISSION', amount: '-0.001', asset: 'BNB', usdt: null, at: '2026-03-31T23:00' },
    ]);
    const { issuer } = issuerOn();
    await issuer.issue(utc('2026-03-01'), { actorId: null });
    expect(await invoiceOf(idle)).toBeUndefined();
    expect(await invoiceOf(admin)).toBeUndefined();
    expect((await invoiceOf(late)).profit_share_fee).toBe('6.0000000000');
    // Valued in April: the day is settled then and billed on April's invoice, named as late.
    await sql(`update account_movements set usdt_value = '-0.6' where id = ?`, [bnb]);
    clock.at = utc('2026-05-01T01:00');
    await issuer.issue(utc('2026-04-01'), { actorId: null });
    const [april] = await sql(`select profit_share_fee, lines from invoices where user_id = ? and period_start = ?`, [late, utc('2026-04-01')]);
    // 30 % of 9.4
    expect(april.profit_share_fee).toBe('2.8200000000');
    expect(april.lines[1].description).toBe('Profit share, April 2026 (and earlier days settled late)');
  });

  it('the monthly job issues every month missed since the last one issued', async () => {
    const user = await addUser(db.orm, { plan: 'BASIC', createdAt: '2026-01-01T00:00' });
    clock.at = utc('2026-07-01T01:00');
    const { issuer } = issuerOn();
    // March and April were issued above; May and June were missed.
    expect((await issuer.issueDue()).map((r) => r.month.toISOString().slice(0, 7))).toEqual(['2026-05', '2026-06']);
    expect(await sql(`select period_start, subscription_fee from invoices where user_id = ? order by period_start`, [user])).toEqual([
      { period_start: expect.stringMatching(/^2026-05-01/), subscription_fee: '29.0000000000' },
      { period_start: expect.stringMatching(/^2026-06-01/), subscription_fee: '29.0000000000' },
    ]);
  });

  describe('on a deployment that never issued an invoice', () => {
    let fresh: Awaited<ReturnType<typeof createMigratedOrm>>;
    beforeAll(async () => {
      fresh = await createMigratedOrm('invoices_first');
    });
    afterAll(() => fresh.close());

    const issuerAt = (at: string) => {
      const now = new SetClock(utc(at));
      return new InvoiceIssuer({
        orm: fresh.orm, settlement: settlementOn(fresh.orm, now), history: new PlanHistory(), notifier: new NoticeLog(), audit: new AuditService(), clock: now, dueDays: 14, logger,
      });
    };

    it('the monthly job issues every month since billing began (its first settled day), not before it', async () => {
      const user = await addUser(fresh.orm, { plan: 'BASIC', createdAt: '2025-06-01T00:00' });
      await fresh.orm.em.fork().execute(
        `insert into billing_closings (id, kind, period_start, final, runs, updated_at) values (gen_random_uuid(), 'DAY', ?, true, 1, now())`,
        [utc('2026-02-20')],
      );
      // Every node was down from February to May: February, March and April are over and not invoiced.
      const months = (await issuerAt('2026-05-01T01:00').issueDue()).map((r) => r.month.toISOString().slice(0, 7));
      expect(months).toEqual(['2026-02', '2026-03', '2026-04']);
      const invoices = await fresh.orm.em.fork().execute<Array<{ period_start: string }>>(`select period_start from invoices where user_id = ? order by period_start`, [user]);
      expect(invoices.map((i) => i.period_start.slice(0, 7))).toEqual(['2026-02', '2026-03', '2026-04']);
      // From then on the last invoiced month is the mark.
      expect((await issuerAt('2026-07-02T00:00').issueDue()).map((r) => r.month.toISOString().slice(0, 7))).toEqual(['2026-05', '2026-06']);
    });
  });
});
