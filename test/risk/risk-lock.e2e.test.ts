import { AuditLog } from '../../src/entities/audit-log.entity';
import { codeOf, connectSocket } from '../support/graphql-client';
import { signInAdmin, signUp, type SignedInUser } from '../support/factories';
import { MailCapture } from '../support/mail-capture';
import { startTestApp, type TestApp } from '../support/test-app';

const ADMIN = { email: 'risk-admin@example.com', password: 'risk admin password' };
const BROADCAST = 'mutation($a: SignalAction!) { broadcastSignal(input: { action: $a }) { placed skipped failed results { userId status reason } } }';
const RISK = '{ me { risk { isLocked lockedReason dailyLoss consecutiveLosses currentDrawdown limits { maxDailyLossPct maxConsecutiveLosses } } } }';
const UNLOCK = 'mutation($u: ID!, $r: String!) { unlockRisk(userId: $u, reason: $r) { isLocked dailyLoss } }';

async function eventually<T>(probe: () => Promise<T | null | false | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('each user has an independent risk state', () => {
  let t: TestApp;
  const mail = new MailCapture();
  let admin: SignedInUser;
  let risky: SignedInUser;
  let careful: SignedInUser;

  beforeAll(async () => {
    t = await startTestApp({ env: { SMTP_URL: await mail.start(), ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password, ENGINE_ENABLED: 'true', MARKET_FEED: 'simulated', SIMULATED_FEED_SPEED: '0.001', ENGINE_LEADER_CHECK_MS: '200' } });
    admin = await signInAdmin(t, ADMIN.email, ADMIN.password);
    risky = await signUp(t, mail);
    careful = await signUp(t, mail);
    // 5x on 5% of 10,000 USDT = 0.05 BTC at 50,000; 5x on 1% = 0.01 BTC.
    await t.gql('mutation { setExchangeConfig(input: { exchange: PAPER, leverage: 5, maxPositionPct: 0.05 }) { isValid } }', {}, risky.accessToken);
    await t.gql('mutation { setExchangeConfig(input: { exchange: PAPER, leverage: 5, maxPositionPct: 0.01 }) { isValid } }', {}, careful.accessToken);
  });
  afterAll(async () => {
    await t.stop();
    await mail.stop();
  });

  it('locks only the user whose loss crossed the limit, tells them, and lets an admin lift it', async () => {
    const socket = connectSocket(t.url, risky.accessToken);
    const riskEvents = socket.subscribe('subscription { riskStateChanged { isLocked lockedReason consecutiveLosses } }');
    const otherSocket = connectSocket(t.url, careful.accessToken);
    const otherEvents = otherSocket.subscribe('subscription { riskStateChanged { isLocked } }');

    t.app.services.prices.set('BTCUSDT', '50000');
    expect((await t.gql(BROADCAST, { a: 'OPEN_LONG' }, admin.accessToken)).data!.broadcastSignal).toMatchObject({ placed: 2 });
    // The market falls 20%: closing loses 500 USDT (5%, plus fees) for the risky user, 100 USDT (1%) for the careful one.
    t.app.services.prices.set('BTCUSDT', '40000');
    expect((await t.gql(BROADCAST, { a: 'CLOSE' }, admin.accessToken)).data!.broadcastSignal).toMatchObject({ placed: 2 });
    // Fills the user-data stream did not deliver (it opens a moment after binding) are found by the REST reconciler.
    await t.app.services.reconciler.reconcileAll();
    await eventually(async () => (await t.gql(RISK, {}, risky.accessToken)).data!.me.risk.consecutiveLosses === 1);
    // Each user's fills are their own: 0.05 BTC lots for one, 0.01 for the other, never mixed.
    const TRADES = '{ me { trades { items { quantity realizedPnl } } } }';
    const riskyTrades = (await t.gql(TRADES, {}, risky.accessToken)).data!.me.trades.items;
    const carefulTrades = (await t.gql(TRADES, {}, careful.accessToken)).data!.me.trades.items;
    expect(riskyTrades.map((x: { quantity: string }) => x.quantity)).toEqual(['0.05', '0.05']);
    expect(carefulTrades.map((x: { quantity: string }) => x.quantity)).toEqual(['0.01', '0.01']);
    expect(riskyTrades[0].realizedPnl).toBe('-500');

    const next = (await t.gql(BROADCAST, { a: 'OPEN_LONG' }, admin.accessToken)).data!.broadcastSignal;
    expect(next).toMatchObject({ placed: 1, skipped: 1 });
    const skipped = next.results.find((r: { userId: string }) => r.userId === risky.id);
    expect(skipped).toMatchObject({ status: 'SKIPPED' });
    expect(skipped.reason).toMatch(/^risk locked: daily loss 5\d\d\.\d\d USDT = 5\.\d\d % of start-of-day equity 10,000\.00, limit 5 %$/);
    expect(next.results.find((r: { userId: string }) => r.userId === careful.id).status).toBe('PLACED');

    const risk = (await t.gql(RISK, {}, risky.accessToken)).data!.me.risk;
    expect(risk).toMatchObject({ isLocked: true, consecutiveLosses: 1, limits: { maxDailyLossPct: 0.05, maxConsecutiveLosses: 5 } });
    expect(Number(risk.dailyLoss)).toBeGreaterThanOrEqual(500);
    expect((await t.gql(RISK, {}, careful.accessToken)).data!.me.risk.isLocked).toBe(false);
    expect((await eventually(async () => riskEvents.events.find((e: { riskStateChanged: { isLocked: boolean } }) => e.riskStateChanged.isLocked))).riskStateChanged.lockedReason).toMatch(/daily loss/);
    await mail.waitFor(risky.email, /(risk limit reached)/);
    expect(otherEvents.events.every((e: { riskStateChanged: { isLocked: boolean } }) => !e.riskStateChanged.isLocked)).toBe(true);

    expect(codeOf(await t.gql(UNLOCK, { u: risky.id, r: 'reviewed' }, careful.accessToken))).toBe('FORBIDDEN');
    expect(codeOf(await t.gql(UNLOCK, { u: risky.id, r: '  ' }, admin.accessToken))).toBe('BAD_USER_INPUT');
    expect(codeOf(await t.gql(UNLOCK, { u: '00000000-0000-4000-8000-000000000000', r: 'x' }, admin.accessToken))).toBe('NOT_FOUND');
    // Refused unlocks changed nothing: still locked with the same reason, no new risk event, nothing audited.
    expect((await t.gql(RISK, {}, risky.accessToken)).data!.me.risk).toMatchObject({ isLocked: true, lockedReason: risk.lockedReason, consecutiveLosses: 1 });
    expect((await t.gql('{ me { riskEvents { kind } } }', {}, risky.accessToken)).data!.me.riskEvents).toEqual([{ kind: 'LOCKED' }]);
    expect(await t.app.services.orm.em.fork().count(AuditLog, { action: 'admin.unlock_risk' })).toBe(0);
    expect((await t.gql(UNLOCK, { u: risky.id, r: 'reviewed with the user' }, admin.accessToken)).data!.unlockRisk).toEqual({ isLocked: false, dailyLoss: '0' });

    await t.gql(BROADCAST, { a: 'CLOSE' }, admin.accessToken);
    const after = (await t.gql(BROADCAST, { a: 'OPEN_LONG' }, admin.accessToken)).data!.broadcastSignal;
    expect(after.results.find((r: { userId: string }) => r.userId === risky.id).status).toBe('PLACED');
    await socket.dispose();
    await otherSocket.dispose();
  });

  it('a limit a user stored before the platform lowered its default shows as the lower default it is now held to', async () => {
    const early = await signUp(t, mail);
    // Stored when the platform allowed 10 % a day and 10 losing closes; the operator has since lowered the defaults to 5 % and 5.
    await t.app.services.orm.em.fork().execute(
      'insert into user_risk_states (user_id, max_daily_loss_pct, max_weekly_loss_pct, max_consecutive_losses, updated_at) values (?, 0.08, 0.06, 9, now())',
      [early.id],
    );
    const limits = (await t.gql('{ me { risk { limits { maxDrawdown maxDailyLossPct maxWeeklyLossPct maxConsecutiveLosses } } } }', {}, early.accessToken)).data!.me.risk.limits;
    // The weekly limit they keep tighter than the default stays theirs.
    expect(limits).toEqual({ maxDrawdown: 0.2, maxDailyLossPct: 0.05, maxWeeklyLossPct: 0.06, maxConsecutiveLosses: 5 });
  });
});
