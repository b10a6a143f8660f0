import { randomUUID } from 'node:crypto';
import { Role, UserStatus } from '../../src/entities/enums';
import { AppError } from '../../src/errors/app-error';
import type { SignedInScope } from '../../src/services/scope';
import { eventually } from '../support/eventually';
import { codeOf, connectSocket } from '../support/graphql-client';
import { PASSWORD, signInAdmin, signUp, uniqueEmail, type SignedInUser } from '../support/factories';
import { MailCapture } from '../support/mail-capture';
import { startTestApp, type TestApp } from '../support/test-app';

const ADMIN = { email: 'console-admin@example.com', password: 'console admin password' };
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';
const DETAIL = `query($id: ID!) { user(id: $id) {
  user { id email status subscription }
  exchangeConfig { exchange apiKeyMasked isValid leverage maxPositionPct }
  risk { isLocked lockedReason currentDrawdown limits { maxDrawdown } }
  riskEvents { id kind reason createdAt }
  positions { symbol side quantity entryPrice }
  recentOrders { id side status quantity }
  profit { records { periodType periodStart grossProfit feeRate platformFee netProfit } totalGrossProfit totalPlatformFee totalNetProfit }
  invoices { id userId plan subscriptionFee profitShareFee total status dueAt paidAt lines { description amount calculation } }
} }`;
const STATS = '{ platformStats { totalUsers usersByStatus { status count } usersByPlan { plan count } activeTraders lockedUsers signalsLast24h ordersLast24h failedOrdersLast24h } }';
const USERS = 'query($q: String, $f: Int) { users(search: $q, first: $f) { total items { email } } }';
const BROADCAST = 'mutation($i: ManualSignalInput!) { broadcastSignal(input: $i) { total placed skipped results { userId status reason } } }';
const SUSPEND = 'mutation($id: ID!, $r: String) { suspendUser(id: $id, reason: $r) { id status } }';

const sql = (t: TestApp, query: string, params: unknown[] = []) => t.app.services.orm.em.fork().getConnection().execute(query, params);
const bindPaper = async (t: TestApp, user: SignedInUser) => {
  const res = await t.gql('mutation { setExchangeConfig(input: { exchange: PAPER, leverage: 5, maxPositionPct: 0.05 }) { isValid } }', {}, user.accessToken);
  expect(res.data!.setExchangeConfig.isValid).toBe(true);
};
/** The scope a resolver would hand a service, for the same actor: to check the service's own guard. */
const scopeOf = (t: TestApp, user: SignedInUser, role: Role): SignedInScope => ({
  em: t.app.services.orm.em.fork(),
  actor: { id: user.id, role, sessionId: randomUUID(), expiresAt: new Date(Date.now() + 60_000) },
  ip: '127.0.0.1',
});
/** No mail job waiting or running (periodic jobs wait in the same table with a future run_at). */
const mailQueueEmpty = async (t: TestApp) =>
  (await sql(t, "select count(*)::int as n from graphile_worker.jobs where task_identifier = 'notifications.send-mail'"))[0].n === 0;

describe('admin console', () => {
  let t: TestApp;
  const mail = new MailCapture();
  let admin: SignedInUser;
  let alice: SignedInUser;
  let bob: SignedInUser;

  beforeAll(async () => {
    t = await startTestApp({ env: { SMTP_URL: await mail.start(), ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password } });
    t.app.services.prices.set('BTCUSDT', '50000');
    admin = await signInAdmin(t, ADMIN.email, ADMIN.password);
    alice = await signUp(t, mail, uniqueEmail('alice'));
    bob = await signUp(t, mail, uniqueEmail('bob'));
    await bindPaper(t, alice);
    await bindPaper(t, bob);
  });
  afterAll(async () => {
    await t.stop();
    await mail.stop();
  });

  describe('user(id)', () => {
    it('shows an admin the whole picture of one user, each part from its owner, and audits the look', async () => {
      const open = await t.gql(BROADCAST, { i: { action: 'OPEN_LONG' } }, admin.accessToken);
      expect(open.data!.broadcastSignal.placed).toBe(2);
      await sql(t, `insert into user_profits (id, user_id, period_type, period_start, period_end, plan, starting_balance, ending_balance, gross_profit, fee_rate, platform_fee, net_profit, created_at, updated_at)
        values (?, ?, 'DAILY', now() - interval '1 day', now(), 'FREE', '10000', '10100', '100', '0.3', '30', '70', now(), now()),
               (?, ?, 'DAILY', now() - interval '2 day', now() - interval '1 day', 'FREE', '10100', '10050', '-50', '0.3', '0', '-50', now(), now())`,
      [randomUUID(), alice.id, randomUUID(), alice.id]);
      await sql(t, `insert into invoices (id, user_id, period_start, period_end, plan, subscription_fee, profit_share_fee, total, status, lines, due_at, created_at, updated_at)
        values (?, ?, '2026-10-01T00:00:00Z', '2026-11-01T00:00:00Z', 'FREE', '0', '30', '30', 'OPEN', ?, '2026-11-15T00:00:00Z', now(), now())`,
      [randomUUID(), alice.id, JSON.stringify([{ description: 'Profit share', amount: '30', calculation: '100 × 30 %' }])]);
      await sql(t, "insert into risk_events (id, user_id, type, kind, detail, created_at) values (?, ?, 'LOCKED', 'DRAWDOWN', 'drawdown 21% reached the limit of 20%', now() - interval '1 hour')", [randomUUID(), alice.id]);
      await sql(t, "insert into risk_events (id, user_id, type, kind, detail, actor_id, created_at) values (?, ?, 'UNLOCKED', 'DRAWDOWN', 'checked with the user', ?, now())", [randomUUID(), alice.id, admin.id]);

      const res = await t.gql(DETAIL, { id: alice.id }, admin.accessToken);
      expect(res.errors).toBeUndefined();
      const d = res.data!.user;
      expect(d.user).toEqual({ id: alice.id, email: alice.email, status: 'ACTIVE', subscription: 'FREE' });
      expect(d.exchangeConfig).toEqual({ exchange: 'PAPER', apiKeyMasked: 'PAPER', isValid: true, leverage: 5, maxPositionPct: 0.05 });
      expect(d.risk).toMatchObject({ isLocked: false, limits: { maxDrawdown: 0.2 } });
      expect(d.riskEvents.map((e: { kind: string }) => e.kind)).toEqual(['UNLOCKED', 'LOCKED']);
      expect(d.positions).toEqual([{ symbol: 'BTCUSDT', side: 'LONG', quantity: '0.05', entryPrice: '50000' }]);
      expect(d.recentOrders).toHaveLength(1);
      expect(d.recentOrders[0]).toMatchObject({ side: 'BUY', status: 'FILLED', quantity: '0.05' });
      expect(d.profit).toMatchObject({ totalGrossProfit: '50', totalPlatformFee: '30', totalNetProfit: '20' });
      expect(d.profit.records).toHaveLength(2);
      expect(d.invoices).toEqual([{
        id: expect.any(String), userId: alice.id, plan: 'FREE', subscriptionFee: '0', profitShareFee: '30', total: '30', status: 'OPEN',
        dueAt: '2026-11-15T00:00:00.000Z', paidAt: null, lines: [{ description: 'Profit share', amount: '30', calculation: '100 × 30 %' }],
      }]);
      // Bob's data is Bob's: nothing of it in Alice's detail.
      expect(JSON.stringify(d)).not.toContain(bob.id);

      const audit = await sql(t, "select actor_id, ip from audit_logs where user_id = ? and action = 'admin.view_user'", [alice.id]);
      expect(audit).toEqual([{ actor_id: admin.id, ip: expect.stringMatching(/127\.0\.0\.1/) }]);
    });

    it('answers NOT_FOUND alike for an unknown id and a malformed one, on every admin operation taking an id', async () => {
      const ops = [
        ['query($id: ID!) { user(id: $id) { user { id } } }', {}],
        [SUSPEND, {}],
        ['mutation($id: ID!) { activateUser(id: $id) { id } }', {}],
        ['mutation($id: ID!) { banUser(id: $id) { id } }', {}],
        ['query($id: ID) { auditLog(userId: $id) { id } }', {}],
      ] as const;
      for (const [doc] of ops) {
        const unknown = await t.gql(doc, { id: UNKNOWN_ID }, admin.accessToken);
        const malformed = await t.gql(doc, { id: "x' or '1'='1" }, admin.accessToken);
        expect(codeOf(unknown)).toBe('NOT_FOUND');
        expect(codeOf(malformed)).toBe('NOT_FOUND');
        expect(malformed.errors![0].message).toBe(unknown.errors![0].message);
      }
    });

    it('refuses a user FORBIDDEN and nobody UNAUTHENTICATED, at the resolver and again in the service', async () => {
      for (const [doc, vars] of [
        [DETAIL, { id: bob.id }],
        [STATS, {}],
        [USERS, {}],
        ['query($id: ID) { auditLog(userId: $id) { id } }', { id: bob.id }],
        [SUSPEND, { id: bob.id }],
        ['mutation($id: ID!) { activateUser(id: $id) { id } }', { id: bob.id }],
        ['mutation($id: ID!) { banUser(id: $id) { id } }', { id: bob.id }],
      ] as const) {
        expect(codeOf(await t.gql(doc, vars, alice.accessToken))).toBe('FORBIDDEN');
        expect(codeOf(await t.gql(doc, vars))).toBe('UNAUTHENTICATED');
      }
      const asUser = scopeOf(t, alice, Role.USER);
      const s = t.app.services;
      for (const call of [
        () => s.adminConsole.userDetail(asUser, bob.id),
        () => s.adminConsole.platformStats(asUser),
        () => s.users.list(asUser, {}),
        () => s.users.setStatus(asUser, bob.id, UserStatus.SUSPENDED, null),
        () => s.audit.list(asUser, { userId: bob.id, first: 10 }),
        () => s.exchangeConfigs.configOf(asUser, bob.id),
        () => s.trading.positionsOf(asUser, bob.id),
      ]) {
        await expect(call()).rejects.toMatchObject({ code: 'FORBIDDEN' });
      }
      expect((await sql(t, 'select status from users where id = ?', [bob.id]))[0].status).toBe('ACTIVE');
      await expect(s.adminConsole.userDetail(asUser, bob.id)).rejects.toBeInstanceOf(AppError);
    });
  });

  describe('users(...)', () => {
    it('searches with %, _, \\ and quotes as plain text, and caps first', async () => {
      const tag = randomUUID().slice(0, 6);
      const odd = [`per%cent-${tag}@example.com`, `under_score-${tag}@example.com`, `o'neil-${tag}@example.com`, `plain-${tag}@example.com`];
      for (const email of odd) expect((await t.gql('mutation($i: RegisterInput!) { register(input: $i) { id } }', { i: { email, password: PASSWORD } })).errors).toBeUndefined();
      const found = async (q: string) => {
        const res = await t.gql(USERS, { q, f: 200 }, admin.accessToken);
        expect(res.errors).toBeUndefined();
        return res.data!.users.items.map((u: { email: string }) => u.email).sort();
      };
      expect(await found('%')).toEqual([odd[0]]);
      expect(await found('_')).toEqual([odd[1]]);
      expect(await found(`'`)).toEqual([odd[2]]);
      expect(await found(`${tag}@`)).toEqual([...odd].sort());
      expect(await found('\\')).toEqual([]);
      expect(await found('"')).toEqual([]);
      expect(await found("' or 1=1 --")).toEqual([]);
      expect(await found('%%')).toEqual([]);
      expect(codeOf(await t.gql(USERS, { f: 201 }, admin.accessToken))).toBe('BAD_USER_INPUT');
      expect(codeOf(await t.gql(USERS, { f: 0 }, admin.accessToken))).toBe('BAD_USER_INPUT');
      expect(codeOf(await t.gql('{ auditLog(first: 5000) { id } }', {}, admin.accessToken))).toBe('BAD_USER_INPUT');
    });
  });

  describe('suspension', () => {
    it('closes the open subscription at once, skips the user on the next signal with the reason, and is audited', async () => {
      const carol = await signUp(t, mail, uniqueEmail('carol'));
      await bindPaper(t, carol);
      const socket = connectSocket(t.url, carol.accessToken);
      const events = socket.subscribe('subscription { signalEmitted { id } }');
      await socket.connected;

      const res = await t.gql(SUSPEND, { id: carol.id, r: 'chargeback under review' }, admin.accessToken);
      expect(res.data!.suspendUser.status).toBe('SUSPENDED');
      expect((await socket.closed).code).toBe(4403);
      events.unsubscribe();

      const next = await t.gql(BROADCAST, { i: { action: 'OPEN_SHORT' } }, admin.accessToken);
      const mine = next.data!.broadcastSignal.results.find((r: { userId: string }) => r.userId === carol.id);
      expect(mine).toEqual({ userId: carol.id, status: 'SKIPPED', reason: 'account suspended' });
      expect((await sql(t, "select count(*)::int as n from orders where user_id = ?", [carol.id]))[0].n).toBe(0);

      const audit = await t.gql('query($u: ID) { auditLog(userId: $u) { action actorId detail ip } }', { u: carol.id }, admin.accessToken);
      expect(audit.data!.auditLog).toEqual(expect.arrayContaining([{ action: 'admin.suspend_user', actorId: admin.id, detail: 'chargeback under review', ip: expect.stringMatching(/127\.0\.0\.1/) }]));

      await t.gql('mutation($id: ID!) { activateUser(id: $id) { status } }', { id: carol.id }, admin.accessToken);
      const later = await t.gql(BROADCAST, { i: { action: 'CLOSE' } }, admin.accessToken);
      expect(later.errors).toBeUndefined();
    });

    it('is idempotent: suspending a suspended user writes no second audit row and sends no second mail', async () => {
      const dave = await signUp(t, mail, uniqueEmail('dave'));
      await t.gql(SUSPEND, { id: dave.id, r: 'first' }, admin.accessToken);
      const again = await t.gql(SUSPEND, { id: dave.id, r: 'second' }, admin.accessToken);
      expect(again.data!.suspendUser.status).toBe('SUSPENDED');
      await mail.waitForMail(dave.email, (m) => m.subject === 'Your account has been suspended');
      await eventually('the mail queue to drain', () => mailQueueEmpty(t));
      expect(mail.to(dave.email).filter((m) => m.subject === 'Your account has been suspended')).toHaveLength(1);
      const rows = await sql(t, "select detail from audit_logs where user_id = ? and action = 'admin.suspend_user'", [dave.id]);
      expect(rows).toEqual([{ detail: 'first' }]);
      // The user is told, in their own history, that it happened; not who did it or the internal reason.
      await t.gql('mutation($id: ID!) { activateUser(id: $id) { status } }', { id: dave.id }, admin.accessToken);
      const relogin = await signInAdmin(t, dave.email, PASSWORD);
      const own = await t.gql('{ me { auditLog { action actorId detail ip } } }', {}, relogin.accessToken);
      expect(own.data!.me.auditLog).toEqual(expect.arrayContaining([
        { action: 'admin.suspend_user', actorId: null, detail: null, ip: null },
        { action: 'admin.activate_user', actorId: null, detail: null, ip: null },
      ]));
      expect(JSON.stringify(own.data)).not.toContain(admin.id);
    });

    it('refuses to suspend or ban oneself, and never takes out the last active admin, even when two admins race', async () => {
      expect(codeOf(await t.gql(SUSPEND, { id: admin.id }, admin.accessToken))).toBe('BAD_USER_INPUT');
      expect(codeOf(await t.gql('mutation($id: ID!) { banUser(id: $id) { id } }', { id: admin.id }, admin.accessToken))).toBe('BAD_USER_INPUT');

      const second = await signUp(t, mail, uniqueEmail('second-admin'));
      await sql(t, "update users set role = 'ADMIN' where id = ?", [second.id]);
      // Each suspends the other at the same moment: at most one can win.
      const [a, b] = await Promise.all([
        t.gql(SUSPEND, { id: second.id }, admin.accessToken),
        t.gql(SUSPEND, { id: admin.id }, second.accessToken),
      ]);
      const wins = [a, b].filter((r) => r.data?.suspendUser?.status === 'SUSPENDED');
      expect(wins).toHaveLength(1);
      expect(codeOf([a, b].find((r) => !r.data?.suspendUser)!)).toBe('CONFLICT');
      const active = await sql(t, "select id from users where role = 'ADMIN' and status = 'ACTIVE'");
      expect(active).toHaveLength(1);

      // The survivor is now the last active admin: an admin who was suspended meanwhile cannot remove them.
      const survivor = active[0].id === admin.id ? admin : second;
      const fallen = survivor === admin ? second : admin;
      await expect(t.app.services.users.setStatus(scopeOf(t, fallen, Role.ADMIN), survivor.id, UserStatus.BANNED, null)).rejects.toMatchObject({ code: 'CONFLICT' });
      expect((await sql(t, 'select status from users where id = ?', [survivor.id]))[0].status).toBe('ACTIVE');
      await t.gql('mutation($id: ID!) { activateUser(id: $id) { status } }', { id: fallen.id }, (survivor === admin ? admin : await signInAdmin(t, second.email, PASSWORD)).accessToken);
    });
  });
});

describe('platformStats', () => {
  let t: TestApp;
  const mail = new MailCapture();

  beforeAll(async () => {
    t = await startTestApp({ env: { SMTP_URL: await mail.start(), ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password } });
    t.app.services.prices.set('BTCUSDT', '50000');
  });
  afterAll(async () => {
    await t.stop();
    await mail.stop();
  });

  it('counts users by status and plan, active traders, locks, and the last 24 h of signals and orders, in aggregate SQL', async () => {
    const admin = await signInAdmin(t, ADMIN.email, ADMIN.password);
    const trader = await signUp(t, mail);
    const pro = await signUp(t, mail);
    const trialOver = await signUp(t, mail);
    const suspended = await signUp(t, mail);
    const locked = await signUp(t, mail);
    const staleLock = await signUp(t, mail);
    for (const u of [trader, pro, trialOver, suspended, locked, staleLock]) await bindPaper(t, u);
    await t.gql('mutation { changePlan(plan: PRO) { subscription } }', {}, pro.accessToken);
    await sql(t, "update users set trial_ends_at = now() - interval '1 day' where id in (?, ?)", [trialOver.id, pro.id]);
    await t.gql('mutation { register(input: { email: "pending-stats@example.com", password: "a pending password" }) { id } }');
    await t.gql(SUSPEND, { id: suspended.id }, admin.accessToken);
    await sql(t, "insert into user_risk_states (user_id, is_locked, lock_kind, locked_reason, locked_at, updated_at) values (?, true, 'DRAWDOWN', 'drawdown', now(), now())", [locked.id]);
    // A daily lock from before today's UTC midnight has lifted, written down or not.
    await sql(t, "insert into user_risk_states (user_id, is_locked, lock_kind, locked_reason, locked_at, updated_at) values (?, true, 'DAILY_LOSS', 'daily', date_trunc('day', now() at time zone 'UTC') at time zone 'UTC' - interval '1 hour', now())", [staleLock.id]);

    const open = await t.gql(BROADCAST, { i: { action: 'OPEN_LONG' } }, admin.accessToken);
    // trader, pro, staleLock trade; trialOver (trial over), suspended (status) and locked (risk) are skipped.
    expect(open.data!.broadcastSignal).toMatchObject({ total: 6, placed: 3, skipped: 3 });
    await sql(t, "insert into signals (id, source, action, symbol, strength, votes, created_at) values (?, 'MANUAL', 'CLOSE', 'BTCUSDT', 1, '[]', now() - interval '25 hours')", [randomUUID()]);
    const order = (status: string, age: string) =>
      sql(t, `insert into orders (id, user_id, client_order_id, symbol, side, quantity, status, created_at, updated_at) values (?, ?, ?, 'BTCUSDT', 'BUY', '0.01', ?, now() - interval '${age}', now())`, [randomUUID(), trader.id, randomUUID().slice(0, 30), status]);
    await order('FAILED', '1 hour');
    await order('REJECTED', '2 hours');
    await order('FAILED', '25 hours');
    await order('FILLED', '30 hours');

    const res = await t.gql(STATS, {}, admin.accessToken);
    expect(res.errors).toBeUndefined();
    expect(res.data!.platformStats).toEqual({
      totalUsers: 8,
      usersByStatus: [{ status: 'PENDING', count: 1 }, { status: 'ACTIVE', count: 6 }, { status: 'SUSPENDED', count: 1 }, { status: 'BANNED', count: 0 }],
      usersByPlan: [{ plan: 'FREE', count: 6 }, { plan: 'BASIC', count: 0 }, { plan: 'PRO', count: 2 }],
      // ACTIVE with a valid key and a paid plan or a running trial: trader, pro, locked, staleLock.
      activeTraders: 4,
      lockedUsers: 1,
      signalsLast24h: 1,
      ordersLast24h: 5,
      failedOrdersLast24h: 2,
    });
  });
});
