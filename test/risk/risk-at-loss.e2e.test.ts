import { AuditLog } from '../../src/entities/audit-log.entity';
import { accessTokenOf, binanceEnv, createBinanceUser, waitFor, type FleetUser } from '../execution-e2e/support/binance-fleet';
import { FakeBinance } from '../support/fake-binance';
import { codeOf, connectSocket, type SocketClient } from '../support/graphql-client';
import { signInAdmin, type SignedInUser } from '../support/factories';
import { MailCapture } from '../support/mail-capture';
import { startTestApp, type TestApp } from '../support/test-app';

const ADMIN = { email: 'risk-loss-admin@example.com', password: 'risk loss admin password' };
const BROADCAST = 'mutation($a: SignalAction!) { broadcastSignal(input: { action: $a }) { results { userId status reason } } }';
const RISK = '{ me { risk { isLocked lockedReason dailyLoss currentDrawdown consecutiveLosses limits { maxDailyLossPct maxConsecutiveLosses } } riskEvents { kind reason } } }';
const LIMITS = 'mutation($i: RiskLimitsInput!) { updateRiskLimits(input: $i) { limits { maxDrawdown maxDailyLossPct maxWeeklyLossPct maxConsecutiveLosses } } }';
const UNLOCK = 'mutation($u: ID!, $r: String!) { unlockRisk(userId: $u, reason: $r) { isLocked consecutiveLosses } }';
const UNLOCK_DRAWDOWN = 'mutation($u: ID!, $r: String!) { unlockRisk(userId: $u, reason: $r) { isLocked currentDrawdown } }';
const MY_LIMITS = '{ me { risk { limits { maxDrawdown maxDailyLossPct maxWeeklyLossPct maxConsecutiveLosses } } } }';

/**
 * Risk that acts at the moment of loss, through the API against the local
 * Binance: the lock follows the losing fill on the user's own stream, with
 * no signal and no reconciliation in between.
 */
describe('per-user risk acts at the moment of loss', () => {
  const fake = new FakeBinance();
  const mail = new MailCapture();
  let t: TestApp;
  let admin: SignedInUser;
  let offsetMs = 0;
  const clock = { now: () => new Date(Date.now() + offsetMs) };
  const sockets: SocketClient[] = [];

  beforeAll(async () => {
    await fake.start();
    t = await startTestApp({
      clock,
      env: {
        ...binanceEnv(fake), SMTP_URL: await mail.start(), ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password, ENGINE_ENABLED: 'true',
        MARKET_FEED: 'simulated', SIMULATED_FEED_SPEED: '0.001', ENGINE_LEADER_CHECK_MS: '200',
        // The daily limit is the one under test: the week's and the drawdown's stay out of its way.
        RISK_MAX_WEEKLY_LOSS_PCT: '0.5', RISK_MAX_DRAWDOWN: '0.5',
      },
    });
    admin = await signInAdmin(t, ADMIN.email, ADMIN.password);
    await waitFor(() => t.app.services.engine.leading, 'this node to lead');
  });
  afterAll(async () => {
    for (const s of sockets) await s.dispose();
    await t.stop();
    await mail.stop();
    await fake.stop();
  });

  const price = (p: string) => {
    fake.setPrice('BTCUSDT', p);
    t.app.services.prices.set('BTCUSDT', p);
  };
  const resultOf = async (action: string, user: FleetUser) =>
    (await t.gql(BROADCAST, { a: action }, admin.accessToken)).data!.broadcastSignal.results.find((r: { userId: string }) => r.userId === user.id);
  const trader = async (tag: string) => {
    const user = await createBinanceUser(t, fake, { tag, leverage: 10, maxPositionPct: '0.3' });
    const token = await accessTokenOf(t, user);
    await t.app.services.engine.reconcileNow();
    await waitFor(() => fake.userConnectionCount(user.apiKey) === 1, 'the user-data stream');
    // A first balance from the stream sets the day's starting equity (10,000).
    fake.chargeFunding(user.apiKey, 'BTCUSDT', '0');
    fake.transfer(user.apiKey, '0.00000001');
    return { user, token };
  };
  const risk = async (token: string) => (await t.gql(RISK, {}, token)).data!.me;

  it('locks at the losing fill with the numbers, on the user\'s own subscription and by mail; OPENs skip only them, CLOSEs still exit; the next UTC day lifts it', async () => {
    const a = await trader('loser');
    const socketA = connectSocket(t.url, a.token);
    sockets.push(socketA);
    const eventsA = socketA.subscribe('subscription { riskStateChanged { isLocked lockedReason } }');

    price('50000');
    const streamUpSince = t.app.services.engine.streams.connectedSince(a.user.id);
    expect(streamUpSince).not.toBeNull();
    // 10,000 × 30 % × 10 / 50,000 = 0.6 BTC each.
    expect((await resultOf('OPEN_LONG', a.user)).status).toBe('PLACED');
    // The market falls 1,400; two thirds of A's position is sold on a thin book: 0.4 × 1,400 = 560 USDT realized.
    price('48600');
    fake.setMarketFillLimit(a.user.apiKey, '0.4');
    const close = await resultOf('CLOSE', a.user);
    expect(close.status).toBe('PLACED');

    // No signal, no reconciliation: the fill on the stream locks the user.
    const locked = await waitForEvent(eventsA, (e) => e.riskStateChanged.isLocked);
    // Fees 12 + 7.776, realized 560, and the rest of the position 280 under water: equity 9,140.224 against the day's 10,000.
    expect(locked.riskStateChanged.lockedReason).toBe('daily loss 859.78 USDT = 8.60 % of start-of-day equity 10,000.00, limit 5 %');
    await mail.waitFor(a.user.email, /(risk limit reached)/);
    // The lock leaves the user's exchange connection alone: the stream that saw the loss keeps watching.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(t.app.services.engine.streams.connectedSince(a.user.id)).toEqual(streamUpSince);

    // Another user's state is their own: B joins flat and trades the next signal while A sits it out.
    const b = await trader('bystander');
    const socketB = connectSocket(t.url, b.token);
    sockets.push(socketB);
    const eventsB = socketB.subscribe('subscription { riskStateChanged { isLocked } }');
    fake.setMarketFillLimit(a.user.apiKey, null);
    const next = (await t.gql(BROADCAST, { a: 'OPEN_SHORT' }, admin.accessToken)).data!.broadcastSignal.results;
    const skip = next.find((r: { userId: string }) => r.userId === a.user.id);
    expect(skip.status).toBe('SKIPPED');
    expect(skip.reason).toBe(`risk locked: ${locked.riskStateChanged.lockedReason}`);
    expect(next.find((r: { userId: string }) => r.userId === b.user.id).status).toBe('PLACED');
    expect((await risk(b.token)).risk.isLocked).toBe(false);
    expect(eventsB.events.some((e: { riskStateChanged: { isLocked: boolean } }) => e.riskStateChanged.isLocked)).toBe(false);
    // The lock blocks new risk, never the exit: the rest of A's position closes.
    expect(await resultOf('CLOSE', a.user)).toMatchObject({ status: 'PLACED', reason: 'position closed' });
    expect(fake.account(a.user.apiKey).position('BTCUSDT').amt.isZero()).toBe(true);

    // The next UTC day: the lift job lifts it, no signal needed.
    const seen = eventsA.events.length;
    offsetMs = 24 * 3600_000;
    try {
      await t.app.services.jobs.trigger('risk-lock-lifts');
      const lifted = await waitForEvent(eventsA, (e) => e.riskStateChanged.isLocked === false, seen);
      expect(lifted.riskStateChanged.lockedReason).toBeNull();
      const after = await risk(a.token);
      expect(after.risk.isLocked).toBe(false);
      expect(after.riskEvents.map((e: { kind: string }) => e.kind)).toEqual(['LIFTED', 'LOCKED']);
      expect(after.riskEvents[0].reason).toBe('daily loss lock lifted: a new UTC day began');
      await mail.waitFor(a.user.email, /(Trading resumed)/);
    } finally {
      offsetMs = 0;
    }
  });

  it('a losing streak at the user\'s own tighter limit locks until an admin unlocks it, audited', async () => {
    const c = await trader('streak');
    expect((await t.gql(LIMITS, { i: { maxConsecutiveLosses: 1 } }, c.token)).data!.updateRiskLimits.limits.maxConsecutiveLosses).toBe(1);
    expect((await risk(c.token)).risk.limits).toEqual({ maxDailyLossPct: 0.05, maxConsecutiveLosses: 1 });
    price('50000');
    await resultOf('OPEN_LONG', c.user);
    price('49990');
    await resultOf('CLOSE', c.user);
    await waitFor(async () => (await risk(c.token)).risk.isLocked, 'the streak lock');
    const me = await risk(c.token);
    expect(me.risk.lockedReason).toBe('1 losing closes in a row reached the limit of 1');
    expect(me.riskEvents.map((e: { kind: string }) => e.kind)).toEqual(['LOCKED', 'LIMITS_CHANGED']);

    expect(codeOf(await t.gql(UNLOCK, { u: c.user.id, r: 'reviewed' }, c.token))).toBe('FORBIDDEN');
    expect(codeOf(await t.gql(UNLOCK, { u: '00000000-0000-4000-8000-000000000000', r: 'reviewed' }, admin.accessToken))).toBe('NOT_FOUND');
    // Refused, so nothing changed: still locked for the same reason, no new event, no unlock audited.
    expect(await risk(c.token)).toEqual(me);
    expect(await t.app.services.orm.em.fork().count(AuditLog, { userId: c.user.id, action: 'admin.unlock_risk' })).toBe(0);
    expect((await t.gql(UNLOCK, { u: c.user.id, r: 'talked it through' }, admin.accessToken)).data!.unlockRisk).toEqual({ isLocked: false, consecutiveLosses: 0 });
    expect((await risk(c.token)).riskEvents[0]).toEqual({ kind: 'UNLOCKED', reason: 'talked it through' });
    const audit = await t.app.services.orm.em.fork().find(AuditLog, { userId: c.user.id, action: { $in: ['admin.unlock_risk', 'risk.locked', 'risk.limits_changed'] } });
    expect(audit.map((r) => r.action).sort()).toEqual(['admin.unlock_risk', 'risk.limits_changed', 'risk.locked']);
  });

  it('a drawdown lock holds until an admin unlocks it, which restarts the high-water mark from the equity then (audited)', async () => {
    const dd = await trader('drawdown');
    await t.gql(LIMITS, { i: { maxDrawdown: 0.02 } }, dd.token);
    expect((await t.gql(MY_LIMITS, {}, dd.token)).data!.me.risk.limits.maxDrawdown).toBe(0.02);
    price('50000');
    // 0.6 BTC long, sold 500 lower: 300 realized and 23.88 of fees, 3.24 % under the 10,000 peak.
    expect((await resultOf('OPEN_LONG', dd.user)).status).toBe('PLACED');
    price('49500');
    expect((await resultOf('CLOSE', dd.user)).status).toBe('PLACED');
    await waitFor(async () => (await risk(dd.token)).risk.isLocked, 'the drawdown lock');
    const locked = await risk(dd.token);
    expect(locked.risk.lockedReason).toMatch(/^drawdown 3\.\d\d % from the equity high-water mark 10,000\.00 USDT \(equity 9,6\d\d\.\d\d\), limit 2 %$/);

    expect((await t.gql(UNLOCK_DRAWDOWN, { u: dd.user.id, r: 'drawdown reviewed' }, admin.accessToken)).data!.unlockRisk).toEqual({ isLocked: false, currentDrawdown: 0 });
    const audit = await t.app.services.orm.em.fork().find(AuditLog, { userId: dd.user.id, action: 'admin.unlock_risk' });
    expect(audit.map((r) => [r.actorId, r.detail])).toEqual([[admin.id, 'drawdown reviewed']]);
    expect((await risk(dd.token)).riskEvents.slice(0, 2)).toEqual([{ kind: 'UNLOCKED', reason: 'drawdown reviewed' }, { kind: 'LOCKED', reason: locked.risk.lockedReason }]);

    // The mark restarted at the ~9,676 of the unlock: a further 81 lost is 0.84 % of it, no lock (it would be 4.05 % of the old 10,000).
    price('50000');
    expect((await resultOf('OPEN_LONG', dd.user)).status).toBe('PLACED');
    price('49900');
    expect((await resultOf('CLOSE', dd.user)).status).toBe('PLACED');
    // A lock and an unlock each rebuild the user's exchange context (and stream); the reconciler reads what the stream may have missed.
    await t.app.services.engine.reconcileNow();
    await waitFor(async () => {
      const r = (await risk(dd.token)).risk;
      return r.consecutiveLosses === 2 && r.currentDrawdown > 0.008;
    }, 'the second close judged');
    const after = (await risk(dd.token)).risk;
    expect(after.isLocked).toBe(false);
    expect(after.currentDrawdown).toBeLessThan(0.009);
  });

  it('a withdrawal of a quarter of the account does not lock, and is no drawdown', async () => {
    const w = await trader('withdraw');
    fake.transfer(w.user.apiKey, '-2500');
    await waitFor(async () => (await t.app.services.orm.em.fork().execute('select count(*)::int as n from account_movements where user_id = ? and kind = ?', [w.user.id, 'WITHDRAWAL']))[0].n === 1, 'the withdrawal');
    await t.app.services.engine.reconcileNow();
    const me = await risk(w.token);
    expect(me.risk).toMatchObject({ isLocked: false, dailyLoss: '0', currentDrawdown: 0 });
  });

  it('refuses limits that would loosen the platform\'s, and nonsense, changing nothing', async () => {
    const u = await trader('limits');
    const before = (await risk(u.token)).risk.limits;
    for (const input of [
      { maxDailyLossPct: 0.5 }, { maxDrawdown: 0 }, { maxWeeklyLossPct: -0.1 }, { maxDrawdown: 1.5 }, { maxConsecutiveLosses: 2.5 },
      { maxConsecutiveLosses: 0 }, { maxConsecutiveLosses: 50 },
    ]) {
      const res = await t.gql(LIMITS, { i: input }, u.token);
      expect([JSON.stringify(input), codeOf(res)]).toEqual([JSON.stringify(input), 'BAD_USER_INPUT']);
    }
    // NaN is not a Float GraphQL accepts at all.
    expect(codeOf(await t.gql(LIMITS.replace('$i: RiskLimitsInput!', '$i: RiskLimitsInput!'), { i: { maxDrawdown: 'NaN' } }, u.token))).toBe('BAD_USER_INPUT');
    expect((await risk(u.token)).risk.limits).toEqual(before);
    expect((await risk(u.token)).riskEvents).toEqual([]);
    expect(codeOf(await t.gql(LIMITS, { i: { maxDrawdown: 0.1 } }))).toBe('UNAUTHENTICATED');

    // Tightening is kept, field by field, and read back by a fresh query.
    await t.gql(LIMITS, { i: { maxDrawdown: 0.3, maxDailyLossPct: 0.04, maxWeeklyLossPct: 0.25, maxConsecutiveLosses: 3 } }, u.token);
    await t.gql(LIMITS, { i: { maxDailyLossPct: 0.03 } }, u.token);
    expect((await t.gql(MY_LIMITS, {}, u.token)).data!.me.risk.limits).toEqual({ maxDrawdown: 0.3, maxDailyLossPct: 0.03, maxWeeklyLossPct: 0.25, maxConsecutiveLosses: 3 });
    expect((await risk(u.token)).riskEvents.map((e: { kind: string }) => e.kind)).toEqual(['LIMITS_CHANGED', 'LIMITS_CHANGED']);
  });
});

/** The first event from index `from` on that matches. */
async function waitForEvent<T>(sub: { events: T[] }, match: (e: any) => boolean, from = 0, timeoutMs = 10_000): Promise<any> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const found = sub.events.slice(from).find(match);
    if (found) return found;
    if (Date.now() > until) throw new Error(`no matching event in ${JSON.stringify(sub.events)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
