import Decimal from 'decimal.js';
import { AuditLog } from '../../src/entities/audit-log.entity';
import { Role, SubscriptionPlan } from '../../src/entities/enums';
import { binanceEnv, waitFor } from '../execution-e2e/support/binance-fleet';
import { FakeBinance } from '../support/fake-binance';
import { codeOf } from '../support/graphql-client';
import { signInAdmin, type SignedInUser } from '../support/factories';
import { decodeQuotedPrintable, MailCapture } from '../support/mail-capture';
import { startTestApp, type TestApp } from '../support/test-app';
import {
  ALL_INVOICES, awayFromMidnight, BROADCAST, d, DAY, ISSUE, MovableClock, movementsOf, MY_INVOICES, nextMonth, PAY, PLATFORM, priceBnb, PROFIT,
  SETTLE, startOfDay, startOfMonth, trader, VOID,
} from './billing-e2e-kit';

const ADMIN = { email: 'billing-admin@example.com', password: 'billing admin password' };

/**
 * The business loop through GraphQL against the local Binance: real fills on
 * two users' streams (commission in USDT and in BNB, a funding payment), the
 * admin settles the day, each user reads their own profit, the month is
 * invoiced and mailed, an overdue invoice holds back OPENs (never CLOSEs)
 * until an admin records the payment, and the platform's revenue is the sum
 * of what the users were charged.
 */
describe('profit, fees and invoices end to end', () => {
  const fake = new FakeBinance();
  const mail = new MailCapture();
  const clock = new MovableClock();
  let t: TestApp;
  let admin: SignedInUser;
  /** What the business-loop test leaves for the cross-user one. */
  const loop: { aliceToken?: string; bobToken?: string; aliceId?: string; bobId?: string; aliceInvoice?: string; bobInvoice?: string } = {};

  beforeAll(async () => {
    await fake.start();
    t = await startTestApp({
      clock,
      env: {
        ...binanceEnv(fake), SMTP_URL: await mail.start(), ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password, ENGINE_ENABLED: 'true',
        MARKET_FEED: 'simulated', SIMULATED_FEED_SPEED: '0.001', ENGINE_LEADER_CHECK_MS: '200',
      },
    });
    admin = await signInAdmin(t, ADMIN.email, ADMIN.password);
    await waitFor(() => t.app.services.engine.leading, 'this node to lead');
  });
  afterAll(async () => {
    await t.stop();
    await mail.stop();
    await fake.stop();
  });

  const price = (p: string) => {
    fake.setPrice('BTCUSDT', p);
    t.app.services.prices.set('BTCUSDT', p);
  };
  const broadcast = async (action: string) => (await t.gql(BROADCAST, { a: action }, admin.accessToken)).data!.broadcastSignal.results as Array<{ userId: string; status: string; reason: string }>;
  const resultFor = <R extends { userId: string }>(results: R[], userId: string) => results.find((r) => r.userId === userId);
  const ok = async <T = any>(query: string, variables: Record<string, unknown>, token: string): Promise<T> => {
    const res = await t.gql(query, variables, token);
    if (res.errors) throw new Error(JSON.stringify(res.errors));
    return res.data as T;
  };

  it('trades → settleProfits → me.profit → issueInvoices (mailed) → overdue holds OPENs, not CLOSEs → markInvoicePaid → platformProfit is the sum of the fees', async () => {
    await awayFromMidnight();
    priceBnb(fake, '600');
    const alice = await trader(t, fake, 'alice', SubscriptionPlan.PRO, '0.3');
    const bob = await trader(t, fake, 'bob', SubscriptionPlan.BASIC, '0.15');
    fake.setCommissionAsset(bob.user.apiKey, 'BNB', '600');

    // Alice: 10,000 × 30 % × 10 / 50,000 = 0.6 BTC; Bob: 10,000 × 15 % × 10 / 50,000 = 0.3 BTC. Up 1,000 and out.
    price('50000');
    expect((await broadcast('OPEN_LONG')).filter((r) => [alice.user.id, bob.user.id].includes(r.userId)).map((r) => r.status)).toEqual(['PLACED', 'PLACED']);
    price('51000');
    await broadcast('CLOSE');
    fake.chargeFunding(alice.user.apiKey, 'BTCUSDT', '-1.5');
    await waitFor(async () => (await movementsOf(t, alice.user.id)).length === 4, "alice's PnL, two fees and the funding");
    await waitFor(async () => (await movementsOf(t, bob.user.id)).filter((m) => m.usdt_value !== null).length === 3, "bob's PnL and two BNB fees, valued");

    const today = startOfDay(Date.now());
    // The day so far; the admin (no trades) has nothing to settle.
    expect((await ok(SETTLE, { d: today.toISOString() }, admin.accessToken)).settleProfits).toBe(2);

    // Alice, PRO: 600 realized − (12 + 12.24) fees − 1.5 funding = 574.26; 10 % = 57.426.
    const aliceDay = (await ok(PROFIT, { f: today.toISOString() }, alice.token)).me.profit;
    expect(aliceDay).toMatchObject({ totalGrossProfit: '574.26', totalPlatformFee: '57.426', totalNetProfit: '516.834' });
    expect(aliceDay.records).toEqual([expect.objectContaining({
      periodType: 'DAILY', periodStart: today.toISOString(), grossProfit: '574.26', feeRate: 0.1, platformFee: '57.426', netProfit: '516.834',
      endingBalance: '10574.26',
    })]);
    // Bob, BASIC: 300 realized − (0.01 + 0.0102 BNB at 600 = 12.12) = 287.88; 20 % = 57.576. Only his own.
    const bobDay = (await ok(PROFIT, { f: today.toISOString() }, bob.token)).me.profit;
    expect(bobDay).toMatchObject({ totalGrossProfit: '287.88', totalPlatformFee: '57.576', totalNetProfit: '230.304' });
    expect(bobDay.records).toHaveLength(1);
    // Weeks and months are the sums of their days.
    const week = (await ok(PROFIT, { p: 'WEEKLY' }, alice.token)).me.profit;
    expect(week.records).toEqual([expect.objectContaining({ periodType: 'WEEKLY', grossProfit: '574.26', platformFee: '57.426', feeRate: 0.1 })]);
    expect(new Date(week.records[0].periodStart).getUTCDay()).toBe(1);
    const month = (await ok(PROFIT, { p: 'MONTHLY' }, alice.token)).me.profit;
    expect(month.records).toEqual([expect.objectContaining({ periodType: 'MONTHLY', periodStart: startOfMonth(today).toISOString(), netProfit: '516.834' })]);

    // The platform's share of the day is exactly the users' fees.
    const day = (await ok(PLATFORM, { f: today.toISOString(), t: new Date(today.getTime() + DAY).toISOString() }, admin.accessToken)).platformProfit;
    expect(day).toMatchObject({ totalGrossProfit: '862.14', totalPlatformFee: d(aliceDay.totalPlatformFee).plus(bobDay.totalPlatformFee).toString() });
    expect(day.byPlan).toEqual([
      { plan: 'FREE', users: 0, platformFee: '0', subscriptionRevenue: '0' },
      { plan: 'BASIC', users: 1, platformFee: '57.576', subscriptionRevenue: '0' },
      { plan: 'PRO', users: 1, platformFee: '57.426', subscriptionRevenue: '0' },
    ]);

    // The month is over an hour into the next one: it is invoiced (the day settled again, now final) and mailed.
    const monthStart = startOfMonth(today);
    const issuedAt = new Date(nextMonth(today).getTime() + 3600_000);
    clock.set(issuedAt);
    expect((await ok(ISSUE, { m: monthStart.toISOString() }, admin.accessToken)).issueInvoices).toBe(2);
    expect((await ok(ISSUE, { m: monthStart.toISOString() }, admin.accessToken)).issueInvoices).toBe(0);
    const monthDays = (nextMonth(today).getTime() - monthStart.getTime()) / DAY;
    const planDays = (nextMonth(today).getTime() - today.getTime()) / DAY;
    const proRated = (fee: number) => new Decimal(fee).times(planDays).dividedBy(monthDays).toDecimalPlaces(2, Decimal.ROUND_HALF_UP);
    const [aliceInvoice] = (await ok(MY_INVOICES, {}, alice.token)).me.invoices;
    expect(aliceInvoice).toMatchObject({
      userId: alice.user.id, periodStart: monthStart.toISOString(), periodEnd: nextMonth(today).toISOString(), plan: 'PRO', status: 'OPEN',
      subscriptionFee: proRated(99).toString(), profitShareFee: '57.43', total: proRated(99).plus('57.43').toString(),
      paidAt: null, paymentReference: null,
    });
    expect(new Date(aliceInvoice.dueAt).getTime() - new Date(aliceInvoice.createdAt).getTime()).toBe(14 * DAY);
    expect(aliceInvoice.lines).toEqual([
      { description: expect.stringMatching(new RegExp(`^PRO plan, .* \\(${planDays} of ${monthDays} days\\)$`)), amount: proRated(99).toString(), calculation: expect.stringContaining(`99.00 USD a month × ${planDays} / ${monthDays} days`) },
      { description: expect.stringMatching(/^Profit share, /), amount: '57.43', calculation: `${today.toISOString().slice(0, 10)}: 10 % of 574.26 = 57.426; sum 57.426 = 57.43 (rounded to the cent, half up)` },
    ]);
    const [bobInvoice] = (await ok(MY_INVOICES, {}, bob.token)).me.invoices;
    Object.assign(loop, { aliceToken: alice.token, bobToken: bob.token, aliceId: alice.user.id, bobId: bob.user.id, aliceInvoice: aliceInvoice.id, bobInvoice: bobInvoice.id });
    expect(bobInvoice).toMatchObject({ userId: bob.user.id, plan: 'BASIC', profitShareFee: '57.58', subscriptionFee: proRated(29).toString() });

    // The mail: plain text and HTML, each with the lines and the total.
    await mail.waitFor(alice.user.email, /Your invoice for/);
    const raw = decodeQuotedPrintable(mail.messages.find((m) => m.to.includes(alice.user.email) && /Your invoice for/.test(m.raw))!.raw);
    expect(raw).toMatch(/Content-Type: text\/plain/);
    expect(raw).toMatch(/Content-Type: text\/html/);
    expect(raw).toContain(`Total: ${d(aliceInvoice.total).toFixed(2)} USD`);
    expect(raw).toContain(`<strong>${d(aliceInvoice.total).toFixed(2)}</strong>`);
    expect(raw).toContain('10 % of 574.26 = 57.426');

    // The month's subscriptions and fees, by plan, are the invoices'.
    const billed = (await ok(PLATFORM, { f: monthStart.toISOString(), t: nextMonth(today).toISOString() }, admin.accessToken)).platformProfit;
    expect(billed).toMatchObject({ totalPlatformFee: '115.002', subscriptionRevenue: proRated(99).plus(proRated(29)).toString() });

    // Alice opens again while her invoice is not due yet.
    price('50000');
    expect(resultFor(await broadcast('OPEN_LONG'), alice.user.id)?.status).toBe('PLACED');
    // A minute past the due date: new OPENs wait for payment (the reason names the invoice); the exit still goes out.
    clock.set(new Date(new Date(aliceInvoice.dueAt).getTime() + 60_000));
    const held = resultFor(await broadcast('OPEN_LONG'), alice.user.id);
    expect(held).toMatchObject({ status: 'SKIPPED', reason: expect.stringContaining(`invoice ${aliceInvoice.id} for ${monthStart.toISOString().slice(0, 7)} unpaid`) });
    expect(resultFor(await broadcast('CLOSE'), alice.user.id)).toMatchObject({ status: 'PLACED', reason: 'position closed' });
    // The hourly job tells each owner of an open invoice past due, once: a run claims what it mails, so two at once share them.
    const runs = await Promise.all([t.app.services.billing.overdue.run(), t.app.services.billing.overdue.run()]);
    expect(runs[0].notified + runs[1].notified).toBe(2);
    await mail.waitFor(alice.user.email, /is overdue/);
    await mail.waitFor(bob.user.email, /is overdue/);
    expect((await t.app.services.billing.overdue.run()).notified).toBe(0);

    // The admin records Alice's payment; Bob's invoice is waived.
    const paid = (await ok(PAY, { id: aliceInvoice.id, r: 'bank transfer 2026-0042' }, admin.accessToken)).markInvoicePaid;
    expect(paid).toMatchObject({ status: 'PAID', paymentReference: 'bank transfer 2026-0042', paidAt: expect.any(String) });
    // Recording the same payment again changes nothing; another reference, or voiding it, is a conflict.
    expect((await ok(PAY, { id: aliceInvoice.id, r: 'bank transfer 2026-0042' }, admin.accessToken)).markInvoicePaid.paidAt).toBe(paid.paidAt);
    // A refused change writes nothing: the invoice row as it was, no audit row.
    const stored = async (id: string) => ({
      invoice: (await t.app.services.orm.em.fork().execute(
        `select status, total, paid_at, payment_reference, payment_source, voided_at, void_reason, updated_at from invoices where id = ?`,
        [id],
      ))[0],
      audits: (await t.app.services.orm.em.fork().execute(`select count(*)::int as n from audit_logs where detail like ?`, [`%${id}%`]))[0].n,
    });
    const alicePaid = await stored(aliceInvoice.id);
    expect(alicePaid).toMatchObject({ invoice: { status: 'PAID', payment_reference: 'bank transfer 2026-0042', voided_at: null, void_reason: null }, audits: 1 });
    expect(codeOf(await t.gql(PAY, { id: aliceInvoice.id, r: 'another' }, admin.accessToken))).toBe('CONFLICT');
    expect(codeOf(await t.gql(VOID, { id: aliceInvoice.id, r: 'mistake' }, admin.accessToken))).toBe('CONFLICT');
    expect(await stored(aliceInvoice.id)).toEqual(alicePaid);
    expect((await ok(VOID, { id: bobInvoice.id, r: 'waived: launch offer' }, admin.accessToken)).voidInvoice.status).toBe('VOID');
    const bobVoid = await stored(bobInvoice.id);
    expect(bobVoid).toMatchObject({ invoice: { status: 'VOID', void_reason: 'waived: launch offer', paid_at: null, payment_reference: null }, audits: 1 });
    expect(codeOf(await t.gql(PAY, { id: bobInvoice.id, r: 'late' }, admin.accessToken))).toBe('CONFLICT');
    expect(await stored(bobInvoice.id)).toEqual(bobVoid);
    const resumed = await broadcast('OPEN_LONG');
    expect(resultFor(resumed, alice.user.id)?.status).toBe('PLACED');
    expect(resultFor(resumed, bob.user.id)?.status).toBe('PLACED');
    await broadcast('CLOSE');

    // A void invoice is no revenue.
    const after = (await ok(PLATFORM, { f: monthStart.toISOString(), t: nextMonth(today).toISOString() }, admin.accessToken)).platformProfit;
    expect(after.subscriptionRevenue).toBe(proRated(99).toString());
    expect((await ok(ALL_INVOICES, { s: 'PAID' }, admin.accessToken)).invoices.items.map((i: { id: string }) => i.id)).toEqual([aliceInvoice.id]);

    const billingActions = ['admin.settle_profits', 'admin.issue_invoices', 'admin.mark_invoice_paid', 'admin.void_invoice'];
    const audit = await t.app.services.orm.em.fork().find(AuditLog, { action: { $in: billingActions }, actorId: admin.id }, { orderBy: { createdAt: 'asc' } });
    // One row per run or change (the idempotent second issue and the repeated payment included, as runs), with the figures.
    expect(audit.map((a) => [a.action, a.detail])).toEqual([
      ['admin.settle_profits', `${today.toISOString().slice(0, 10)} so far: 2 users settled, 0 deferred`],
      ['admin.issue_invoices', expect.stringMatching(/: 2 invoices issued$/)],
      ['admin.issue_invoices', expect.stringMatching(/: 0 invoices issued$/)],
      ['admin.mark_invoice_paid', `invoice ${aliceInvoice.id} (${d(aliceInvoice.total).toString()} USD) paid, reference bank transfer 2026-0042, recorded by ADMIN`],
      ['admin.void_invoice', `invoice ${bobInvoice.id}: waived: launch offer`],
    ]);
  }, 300_000);

  it("shows each user only their own profit and invoices, and no user can settle, pay or void anyone's", async () => {
    clock.offsetMs = 0;
    const { token: carol } = await trader(t, fake, 'carol', SubscriptionPlan.PRO, '0.1');
    const wide = { f: '2020-01-01T00:00:00Z', t: '2030-01-01T00:00:00Z' };
    expect((await ok(PROFIT, wide, carol)).me.profit).toEqual({ records: [], totalGrossProfit: '0', totalPlatformFee: '0', totalNetProfit: '0' });
    expect((await ok(MY_INVOICES, {}, carol)).me.invoices).toEqual([]);
    const bobs = (await ok(MY_INVOICES, {}, loop.bobToken!)).me.invoices;
    expect(bobs.map((i: { id: string; userId: string }) => [i.id, i.userId])).toEqual([[loop.bobInvoice, loop.bobId]]);
    const aliceProfit = (await ok(PROFIT, wide, loop.aliceToken!)).me.profit;
    const bobProfit = (await ok(PROFIT, wide, loop.bobToken!)).me.profit;
    expect(aliceProfit.totalGrossProfit).not.toBe(bobProfit.totalGrossProfit);
    // Another user's invoice is not theirs to touch: the admin operations refuse them outright.
    expect(codeOf(await t.gql(PAY, { id: loop.aliceInvoice }, loop.bobToken))).toBe('FORBIDDEN');
    expect(codeOf(await t.gql(VOID, { id: loop.bobInvoice, r: 'mine' }, loop.bobToken))).toBe('FORBIDDEN');
    expect(codeOf(await t.gql(ALL_INVOICES, { u: loop.aliceId }, carol))).toBe('FORBIDDEN');
    expect((await ok(MY_INVOICES, {}, loop.aliceToken!)).me.invoices[0]).toMatchObject({ id: loop.aliceInvoice, status: 'PAID' });
  });

  it('refuses bad input with BAD_USER_INPUT or CONFLICT and writes nothing', async () => {
    clock.offsetMs = 0;
    const { token } = await trader(t, fake, 'careless', SubscriptionPlan.PRO, '0.1');
    const count = async () =>
      (await t.app.services.orm.em.fork().execute(
        `select (select count(*) from user_profits)::int as profits, (select count(*) from invoices)::int as invoices,
                (select count(*) from billing_closings)::int as closings, (select count(*) from audit_logs)::int as audits`,
      ))[0];
    const before = await count();
    const tomorrow = startOfDay(Date.now() + DAY).toISOString();
    const thisMonth = startOfMonth(new Date()).toISOString();
    const refusals: Array<[string, Record<string, unknown>, string]> = [
      [SETTLE, { d: tomorrow }, 'BAD_USER_INPUT'],
      [SETTLE, { d: '2026-03-02T05:00:00Z' }, 'BAD_USER_INPUT'],
      [ISSUE, { m: thisMonth }, 'BAD_USER_INPUT'],
      [ISSUE, { m: '2026-03-02T00:00:00Z' }, 'BAD_USER_INPUT'],
      [ISSUE, { m: '2026-03-01T00:00:01Z' }, 'BAD_USER_INPUT'],
      [PLATFORM, { f: '2026-03-02T00:00:00Z', t: '2026-03-01T00:00:00Z' }, 'BAD_USER_INPUT'],
      [ALL_INVOICES, { f: 1000 }, 'BAD_USER_INPUT'],
      [ALL_INVOICES, { u: 'not-an-id' }, 'BAD_USER_INPUT'],
      [ALL_INVOICES, { a: 'bm90IGEgY3Vyc29y' }, 'BAD_USER_INPUT'],
      [PAY, { id: '00000000-0000-4000-8000-000000000000' }, 'NOT_FOUND'],
      [PAY, { id: 'nonsense' }, 'NOT_FOUND'],
      [PAY, { id: '00000000-0000-4000-8000-000000000000', r: 'x'.repeat(201) }, 'BAD_USER_INPUT'],
      [VOID, { id: '00000000-0000-4000-8000-000000000000', r: '   ' }, 'BAD_USER_INPUT'],
      [VOID, { id: '00000000-0000-4000-8000-000000000000', r: 'why' }, 'NOT_FOUND'],
    ];
    for (const [query, variables, code] of refusals) {
      const res = await t.gql(query, variables, admin.accessToken);
      expect([JSON.stringify(variables), codeOf(res)]).toEqual([JSON.stringify(variables), code]);
    }
    expect(codeOf(await t.gql(PROFIT, { f: '2026-03-02T00:00:00Z', t: '2026-03-01T00:00:00Z' }, token))).toBe('BAD_USER_INPUT');
    expect(codeOf(await t.gql(PROFIT, { p: 'YEARLY' }, token))).toBe('BAD_USER_INPUT');
    expect(await count()).toEqual(before);
  });

  it('admin operations are FORBIDDEN to a user, at the resolver and in the service', async () => {
    const { user, token } = await trader(t, fake, 'nosy', SubscriptionPlan.PRO, '0.1');
    const attempts: Array<[string, Record<string, unknown>]> = [
      [SETTLE, { d: startOfDay(Date.now() - DAY).toISOString() }],
      [ISSUE, { m: '2026-03-01T00:00:00Z' }],
      [PAY, { id: '00000000-0000-4000-8000-000000000000' }],
      [VOID, { id: '00000000-0000-4000-8000-000000000000', r: 'mine' }],
      [ALL_INVOICES, {}],
      [PLATFORM, {}],
    ];
    for (const [query, variables] of attempts) expect(codeOf(await t.gql(query, variables, token))).toBe('FORBIDDEN');
    // Past the resolver: the services refuse a user's scope themselves.
    const scope = { em: t.app.services.orm.em.fork(), actor: { id: user.id, role: Role.USER, sessionId: 's', expiresAt: new Date(Date.now() + DAY) }, ip: null };
    const { profits, invoices } = t.app.services.billing;
    await expect(profits.settle(scope, startOfDay(Date.now() - DAY))).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(profits.platformProfit(scope, {})).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(invoices.issue(scope, new Date('2026-03-01T00:00:00Z'))).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(invoices.list(scope, {})).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(invoices.markPaid(scope, '00000000-0000-4000-8000-000000000000', null)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(invoices.void(scope, '00000000-0000-4000-8000-000000000000', 'x')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    const denied = await t.app.services.orm.em.fork().find(AuditLog, { action: 'auth.forbidden', userId: user.id });
    expect(denied.length).toBeGreaterThanOrEqual(attempts.length);
  });

  it('pages the admin\'s invoice list and filters it by user', async () => {
    const all = (await t.gql(ALL_INVOICES, { f: 1 }, admin.accessToken)).data!.invoices;
    expect(all.items).toHaveLength(1);
    const rest = (await t.gql(ALL_INVOICES, { f: 50, a: all.nextCursor }, admin.accessToken)).data!.invoices;
    expect(rest.nextCursor).toBeNull();
    const ids = [...all.items, ...rest.items].map((i: { id: string }) => i.id);
    expect(new Set(ids).size).toBe(ids.length);
    const one = (await t.gql(ALL_INVOICES, { u: all.items[0].userId }, admin.accessToken)).data!.invoices.items;
    expect(one.every((i: { userId: string }) => i.userId === all.items[0].userId)).toBe(true);
  });
});
