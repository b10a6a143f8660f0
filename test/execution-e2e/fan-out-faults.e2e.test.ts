import Decimal from 'decimal.js';
import { PositionSide, SignalAction, SignalSource, SubscriptionPlan, UserStatus } from '../../src/entities/enums';
import { Position } from '../../src/entities/position.entity';
import { Signal } from '../../src/entities/signal.entity';
import { UserRiskState } from '../../src/entities/user-risk-state.entity';
import { User } from '../../src/entities/user.entity';
import { randomUUID } from 'node:crypto';
import { dispatchOrder } from '../../src/engine/execution/multi-user-executor';
import { FakeBinance } from '../support/fake-binance';
import { signInAdmin, signUp, type SignedInUser } from '../support/factories';
import { codeOf } from '../support/graphql-client';
import { MailCapture } from '../support/mail-capture';
import { startTestApp, type TestApp } from '../support/test-app';
import {
  binanceEnv, binanceKey, createBinanceUser, createBinanceUsers, orderPosts, storedConfig, storedExecutions, storedOrders, waitFor,
  type FleetUser,
} from './support/binance-fleet';

const ADMIN = { email: 'ops@example.com', password: 'ops password 123' };
const BROADCAST = `mutation($i: ManualSignalInput!) { broadcastSignal(input: $i) {
  total placed skipped failed signal { id action }
  results { userId status reason latencyMs order { clientOrderId status side quantity executedQty reduceOnly } } } }`;

interface ResultRow {
  userId: string;
  status: 'PLACED' | 'SKIPPED' | 'FAILED';
  reason: string | null;
  latencyMs: number;
  order: { clientOrderId: string; status: string; side: string; quantity: string; executedQty: string; reduceOnly: boolean } | null;
}

const byUser = (results: ResultRow[]) => new Map(results.map((r) => [r.userId, r]));

async function broadcast(t: TestApp, admin: SignedInUser, action: string) {
  const res = await t.gql(BROADCAST, { i: { action, strength: 1 } }, admin.accessToken);
  expect(res.errors).toBeUndefined();
  return res.data!.broadcastSignal as { total: number; placed: number; skipped: number; failed: number; signal: { id: string }; results: ResultRow[] };
}

/** The one-order-per-user rule, checked where it matters: in what the exchange holds and in what it was sent. */
function expectExactlyOneOrder(fake: FakeBinance, user: FleetUser, clientOrderId: string) {
  expect(fake.ordersWithClientId(clientOrderId)).toEqual([{ apiKey: user.apiKey, orderId: expect.any(Number) }]);
  const sent = orderPosts(fake, user.apiKey).filter((r) => r.params.newClientOrderId === clientOrderId);
  expect(sent.length).toBeGreaterThanOrEqual(1);
  expect(sent.filter((r) => r.executed)).toHaveLength(1);
}

async function startWithFake(fake: FakeBinance, mail: MailCapture | null, env: Record<string, string>) {
  const t = await startTestApp({
    env: {
      ...binanceEnv(fake),
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      ...(mail ? { SMTP_URL: await mail.start() } : {}),
      ...env,
    },
  });
  // The market feed is off in tests: the price book gets the fake exchange's mark price by hand.
  t.app.services.prices.set('BTCUSDT', fake.price('BTCUSDT').toString());
  return t;
}

describe('who receives a signal, on 22 Binance accounts', () => {
  const fake = new FakeBinance();
  const mail = new MailCapture();
  let t: TestApp;
  let admin: SignedInUser;
  const eligible: FleetUser[] = [];
  let s: Record<'pending' | 'suspended' | 'invalidKey' | 'locked' | 'trialOver' | 'belowMin' | 'noMargin', FleetUser>;

  beforeAll(async () => {
    await fake.start();
    t = await startWithFake(fake, mail, { ENGINE_USER_TIMEOUT_MS: '5000' });
    admin = await signInAdmin(t, ADMIN.email, ADMIN.password);
    // Three people sign up and bind their key the way the app is used; the rest are built by the factory.
    for (let i = 0; i < 3; i++) {
      const person = await signUp(t, mail);
      const key = { apiKey: binanceKey(), apiSecret: binanceKey() };
      fake.addAccount({ ...key, balance: 10_000 });
      const res = await t.gql(
        'mutation($i: ExchangeConfigInput!) { setExchangeConfig(input: $i) { isValid lastVerifyError } }',
        { i: { exchange: 'BINANCE', ...key, leverage: 5, maxPositionPct: 0.05 } },
        person.accessToken,
      );
      expect(res.data!.setExchangeConfig).toEqual({ isValid: true, lastVerifyError: null });
      eligible.push({ id: person.id, email: person.email, ...key });
    }
    eligible.push(...(await createBinanceUsers(t, fake, 12, { tag: 'eligible' })));
    s = {
      pending: await createBinanceUser(t, fake, { status: UserStatus.PENDING }),
      suspended: await createBinanceUser(t, fake, { status: UserStatus.SUSPENDED }),
      invalidKey: await createBinanceUser(t, fake, { isValid: false, lastVerifyError: 'the exchange rejected this API key' }),
      locked: await createBinanceUser(t, fake, { lockedReason: 'daily loss limit of 5% reached' }),
      trialOver: await createBinanceUser(t, fake, { plan: SubscriptionPlan.FREE, trialEndsAt: new Date(Date.now() - 86_400_000) }),
      // 100 USDT × 5% × 5 = 25 USDT, under BTCUSDT's 100 USDT minimum.
      belowMin: await createBinanceUser(t, fake, { balance: 100 }),
      // Saved at 20x but the account was switched to 1x on binance.com: 10,000 USDT of notional needs all the margin and the fee.
      noMargin: await createBinanceUser(t, fake, { leverage: 20, exchangeLeverage: 1 }),
    };
  });
  afterAll(async () => {
    await t.stop();
    await fake.stop();
    await mail.stop();
  });

  it('places exactly one order per eligible user and none for the rest, each skip recorded with its reason', async () => {
    const report = await broadcast(t, admin, 'OPEN_LONG');
    expect(report).toMatchObject({ total: 22, placed: 15, skipped: 6, failed: 1 });
    const results = byUser(report.results);

    for (const user of eligible) {
      const r = results.get(user.id)!;
      // 10,000 USDT × 5% × 5 = 2,500 USDT at 50,000 → 0.05 BTC.
      expect(r).toMatchObject({ status: 'PLACED', order: { status: 'FILLED', side: 'BUY', quantity: '0.05', executedQty: '0.05' } });
      expectExactlyOneOrder(fake, user, r.order!.clientOrderId);
    }
    const expected: Record<keyof typeof s, [string, RegExp]> = {
      pending: ['SKIPPED', /^account pending$/],
      suspended: ['SKIPPED', /^account suspended$/],
      invalidKey: ['SKIPPED', /^exchange key not valid: the exchange rejected this API key$/],
      locked: ['SKIPPED', /^risk locked: daily loss limit of 5% reached$/],
      trialOver: ['SKIPPED', /^free trial ended on \d{4}-\d\d-\d\d; choose a paid plan/],
      belowMin: ['SKIPPED', /order notional 25\.00 USDT is below the exchange minimum 100 USDT/],
      noMargin: ['FAILED', /Not enough available margin/],
    };
    const stored = await storedExecutions(t, report.signal.id);
    expect(stored.size).toBe(22);
    for (const [name, [status, reason]] of Object.entries(expected) as Array<[keyof typeof s, [string, RegExp]]>) {
      const user = s[name];
      // The margin refusal keeps its order row (FAILED, nothing executed) so the attempt stays on record.
      const order = name === 'noMargin' ? { status: 'FAILED', executedQty: '0' } : null;
      expect({ name, ...results.get(user.id)! }).toMatchObject({ name, status, reason: expect.stringMatching(reason), order });
      expect({ name, status: stored.get(user.id)!.status, reason: stored.get(user.id)!.reason }).toEqual({ name, status, reason: expect.stringMatching(reason) });
      expect(fake.account(user.apiKey).orders).toEqual([]);
      // Routing and sizing decide without asking the exchange to trade; only the margin refusal comes from it.
      expect(orderPosts(fake, user.apiKey)).toHaveLength(name === 'noMargin' ? 1 : 0);
    }
    for (const user of eligible) expect(stored.get(user.id)).toMatchObject({ status: 'PLACED', reason: null });

    const clientIds = fake.requests({ method: 'POST', path: '/fapi/v1/order' }).map((r) => r.params.newClientOrderId);
    expect(new Set(clientIds).size).toBe(clientIds.length);
  });

  it('sends a CLOSE to every holder of a strategy position whatever their lock, plan or status', async () => {
    const em = t.app.services.orm.em.fork();
    const [lockedHolder, suspendedHolder, trialHolder] = eligible;
    // The OPEN already judged every holder's risk, so their row exists: lock it in place.
    await em.nativeUpdate(
      UserRiskState,
      { user: lockedHolder.id },
      { isLocked: true, lockKind: 'DRAWDOWN', lockedReason: 'drawdown 20%', lockedAt: new Date() },
      { filters: { owner: false } },
    );
    await em.nativeUpdate(User, { id: suspendedHolder.id }, { status: UserStatus.SUSPENDED });
    await em.nativeUpdate(User, { id: trialHolder.id }, { trialEndsAt: new Date(Date.now() - 60_000) });
    await em.flush();

    const report = await broadcast(t, admin, 'CLOSE');
    expect(report).toMatchObject({ total: 15, placed: 15, skipped: 0, failed: 0 });
    const results = byUser(report.results);
    for (const user of eligible) {
      const r = results.get(user.id)!;
      expect(r).toMatchObject({ status: 'PLACED', reason: 'position closed', order: { side: 'SELL', quantity: '0.05', reduceOnly: true, status: 'FILLED' } });
      expectExactlyOneOrder(fake, user, r.order!.clientOrderId);
      expect(fake.account(user.apiKey).positions.size).toBe(0);
    }
    const open = await em.fork().find(Position, { side: { $ne: PositionSide.FLAT } }, { filters: { owner: false } });
    expect(open).toEqual([]);
    for (const user of Object.values(s)) expect(results.has(user.id)).toBe(false);
  });

  it('does not place an OPEN older than SIGNAL_MAX_LAG_MS, and records why', async () => {
    const em = t.app.services.orm.em.fork();
    const stale = em.create(Signal, {
      source: SignalSource.MANUAL,
      action: SignalAction.OPEN_SHORT,
      symbol: 'BTCUSDT',
      strength: '1',
      referencePrice: '50000',
      createdAt: new Date(Date.now() - t.app.services.config.SIGNAL_MAX_LAG_MS - 5_000),
    });
    await em.flush();
    const postsBefore = fake.requests({ method: 'POST', path: '/fapi/v1/order' }).length;

    const report = await t.app.services.executor.execute(stale);

    // The first three were locked, suspended and taken off their trial by the previous test.
    const stillEligible = new Set(eligible.slice(3).map((user) => user.id));
    const mayTrade = report.results.filter((r) => stillEligible.has(r.user.id));
    expect(mayTrade).toHaveLength(12);
    for (const r of mayTrade) expect({ status: r.status, reason: r.reason }).toEqual({ status: 'SKIPPED', reason: expect.stringMatching(/ms old, over the \d+ ms limit: not placed late/) });
    expect(report.placed).toBe(0);
    expect(fake.requests({ method: 'POST', path: '/fapi/v1/order' })).toHaveLength(postsBefore);
    expect(await storedOrders(t, stale.id)).toEqual([]);
  });

  it('refuses broadcastSignal to a non-admin with FORBIDDEN', async () => {
    const person = await signUp(t, mail);
    const res = await t.gql(BROADCAST, { i: { action: 'OPEN_LONG' } }, person.accessToken);
    expect(codeOf(res)).toBe('FORBIDDEN');
    expect(res.data?.broadcastSignal ?? null).toBeNull();
  });
});

describe('one fan-out, 21 accounts, several of them failing', () => {
  const fake = new FakeBinance();
  let t: TestApp;
  let admin: SignedInUser;
  let plain: FleetUser[];
  let u: Record<'revoked' | 'revokedBefore' | 'slow' | 'hang' | 'unknown' | 'reset' | 'unavailable', FleetUser>;

  beforeAll(async () => {
    await fake.start();
    // The gateway's HTTP timeout (5 s) outlasts the user's budget (3 s): a hung request ends as "unknown" at the budget.
    t = await startWithFake(fake, null, { ENGINE_USER_TIMEOUT_MS: '3000' });
    admin = await signInAdmin(t, ADMIN.email, ADMIN.password);
    plain = await createBinanceUsers(t, fake, 14, { tag: 'plain' });
    u = {
      revoked: await createBinanceUser(t, fake, { tag: 'revoked' }),
      revokedBefore: await createBinanceUser(t, fake, { tag: 'revoked-before' }),
      slow: await createBinanceUser(t, fake, { tag: 'slow' }),
      hang: await createBinanceUser(t, fake, { tag: 'hang' }),
      unknown: await createBinanceUser(t, fake, { tag: 'unknown' }),
      reset: await createBinanceUser(t, fake, { tag: 'reset' }),
      unavailable: await createBinanceUser(t, fake, { tag: 'unavailable' }),
    };
  });
  afterAll(async () => {
    await t.stop();
    await fake.stop();
  });

  it('finishes everyone else, never duplicates an order, and records every outcome', async () => {
    const order = { method: 'POST', path: '/fapi/v1/order' } as const;
    fake.setLatency(5_000, u.slow.apiKey);
    // Executes, then: no answer / 503 "unknown error" / connection reset. Or refused before executing (503 "Service Unavailable").
    fake.injectFault({ kind: 'hang', apiKey: u.hang.apiKey, ...order });
    fake.injectFault({ kind: 'unknownAfter', apiKey: u.unknown.apiKey, ...order });
    fake.injectFault({ kind: 'resetAfter', apiKey: u.reset.apiKey, ...order });
    fake.injectFault({ kind: 'unavailable', apiKey: u.unavailable.apiKey, ...order });
    // The key is deleted on binance.com while its order is on the way: the account read worked, the order is refused.
    fake.injectFault({ kind: 'latency', latencyMs: 300, apiKey: u.revoked.apiKey, ...order });
    fake.revokeKey(u.revokedBefore.apiKey);
    const revoking = waitFor(() => orderPosts(fake, u.revoked.apiKey).length > 0, 'the revoked user\'s order').then(() => fake.revokeKey(u.revoked.apiKey));

    const report = await broadcast(t, admin, 'OPEN_LONG');
    await revoking;
    const results = byUser(report.results);
    expect(report).toMatchObject({ total: 21, placed: 17, skipped: 0, failed: 4 });

    for (const user of [...plain, u.unknown, u.reset, u.unavailable]) {
      const r = results.get(user.id)!;
      expect(r).toMatchObject({ status: 'PLACED', order: { status: 'FILLED', quantity: '0.05' } });
      expectExactlyOneOrder(fake, user, r.order!.clientOrderId);
    }
    // The ambiguous answers were settled by looking the order up, not by sending it again.
    for (const user of [u.unknown, u.reset]) {
      expect(orderPosts(fake, user.apiKey)).toHaveLength(1);
      expect(fake.requests({ method: 'GET', path: '/fapi/v1/order', apiKey: user.apiKey }).length).toBeGreaterThanOrEqual(1);
    }
    // Refused before executing: safe to send again with the same client id.
    expect(orderPosts(fake, u.unavailable.apiKey).map((r) => r.status)).toEqual([503, 200]);

    expect(results.get(u.revoked.id)).toMatchObject({ status: 'FAILED', reason: expect.stringMatching(/rejected the API key/), order: { status: 'FAILED', executedQty: '0' } });
    expect(fake.account(u.revoked.apiKey).orders).toEqual([]);
    expect(await storedConfig(t, u.revoked.id)).toMatchObject({ isValid: false, lastVerifyError: expect.stringMatching(/rejected the API key/) });
    // Found out at the account read instead: same verdict on the key, and no order was attempted.
    expect(results.get(u.revokedBefore.id)).toMatchObject({ status: 'FAILED', reason: expect.stringMatching(/rejected the API key/), order: null });
    expect(orderPosts(fake, u.revokedBefore.apiKey)).toEqual([]);
    expect(await storedConfig(t, u.revokedBefore.id)).toMatchObject({ isValid: false, lastVerifyError: expect.stringMatching(/rejected the API key/) });

    for (const user of [u.slow, u.hang]) {
      expect(results.get(user.id)).toMatchObject({ status: 'FAILED', reason: expect.stringMatching(/^outcome unknown, reconciling/) });
    }
    // The slow account held nobody up: every other user finished before its budget ran out.
    const slowLatency = results.get(u.slow.id)!.latencyMs;
    for (const user of plain) expect(results.get(user.id)!.latencyMs).toBeLessThan(slowLatency);

    // The hung request did execute: one order on the exchange, never a second one.
    const hangOrders = fake.account(u.hang.apiKey).orders;
    expect(hangOrders).toHaveLength(1);
    expect(orderPosts(fake, u.hang.apiKey)).toHaveLength(1);
    expect(fake.account(u.slow.apiKey).orders).toEqual([]);

    const stored = await storedExecutions(t, report.signal.id);
    expect(stored.size).toBe(21);
    for (const [userId, row] of stored) expect({ userId, status: row.status }).toEqual({ userId, status: results.get(userId)!.status });

    // Once the slow account's task ends, its real outcome replaces "unknown"; the hung order's row points at the
    // order whose fate is unknown (for the reconciler), and still nothing was sent twice.
    await waitFor(async () => {
      const rows = await storedExecutions(t, report.signal.id);
      return rows.get(u.slow.id)!.reason !== 'outcome unknown, reconciling';
    }, "the slow account's late outcome", 15_000);
    // The hung send ends at the gateway's HTTP timeout, after the user's budget: it gives up without sending again
    // and leaves the order PENDING with its unknown outcome written on it.
    await waitFor(async () => {
      const orders = await storedOrders(t, report.signal.id);
      return orders.find((o) => o.user.id === u.hang.id)?.error === 'outcome unknown, reconciling';
    }, 'the hung send to give up', 15_000);
    const late = await storedExecutions(t, report.signal.id);
    expect(late.get(u.slow.id)).toMatchObject({ status: 'FAILED', reason: expect.stringMatching(/did not answer in time|not placed/) });
    expect(late.get(u.hang.id)).toMatchObject({ status: 'FAILED', reason: expect.stringMatching(/^outcome unknown, reconciling/) });
    expect(late.get(u.hang.id)!.order).toMatchObject({ status: 'PENDING', clientOrderId: hangOrders[0].clientOrderId });
    expect(fake.account(u.slow.apiKey).orders).toEqual([]);
    expect(orderPosts(fake, u.hang.apiKey)).toHaveLength(1);
  });

  it('re-running the signal adopts the order the exchange executed, and is idempotent for everyone else', async () => {
    fake.clearFaults();
    const em = t.app.services.orm.em.fork();
    const signal = await em.findOneOrFail(Signal, { source: SignalSource.MANUAL }, { orderBy: { createdAt: 'desc' } });
    const hangOrder = fake.account(u.hang.apiKey).orders[0];
    const postsBefore = fake.requests({ method: 'POST', path: '/fapi/v1/order' }).length;

    const rerun = await t.app.services.executor.execute(signal);
    const again = await t.app.services.executor.execute(signal);

    for (const report of [rerun, again]) {
      const results = new Map(report.results.map((r) => [r.user.id, r]));
      expect(results.get(u.hang.id)).toMatchObject({ status: 'PLACED' });
      expect((results.get(u.hang.id)!.order as { clientOrderId: string }).clientOrderId).toBe(hangOrder.clientOrderId);
      for (const user of plain) expect(results.get(user.id)).toMatchObject({ status: 'PLACED' });
      // The revoked key was marked invalid by the first run: not routed any more.
      for (const user of [u.revoked, u.revokedBefore]) {
        expect(results.get(user.id)).toMatchObject({ status: 'SKIPPED', reason: expect.stringMatching(/^exchange key not valid/) });
      }
    }
    const sent = fake.requests({ method: 'POST', path: '/fapi/v1/order' }).slice(postsBefore);
    // Only the slow user, who was never sent anything, may get an order now; nobody else is sent one again.
    expect(sent.map((r) => r.apiKey)).toEqual(sent.length === 0 ? [] : [u.slow.apiKey]);
    expect(fake.ordersWithClientId(hangOrder.clientOrderId)).toHaveLength(1);
    for (const user of [...plain, u.hang, u.unknown, u.reset, u.unavailable]) expect(fake.account(user.apiKey).orders).toHaveLength(1);

    const hangPosition = await em.fork().findOne(Position, { user: u.hang.id }, { filters: { owner: false } });
    expect(hangPosition).toMatchObject({ side: 'LONG' });
    expect(new Decimal(hangPosition!.quantity).eq('0.05')).toBe(true);
    expect((await storedExecutions(t, signal.id)).get(u.hang.id)).toMatchObject({ status: 'PLACED', reason: null });
  });
});

describe('Binance bans the IP (418) during a fan-out', () => {
  const fake = new FakeBinance();
  let t: TestApp;
  let admin: SignedInUser;
  let users: FleetUser[];

  beforeAll(async () => {
    await fake.start();
    t = await startWithFake(fake, null, { ENGINE_USER_TIMEOUT_MS: '6000' });
    admin = await signInAdmin(t, ADMIN.email, ADMIN.password);
    users = await createBinanceUsers(t, fake, 20, { tag: 'ban' });
  });
  afterAll(async () => {
    await t.stop();
    await fake.stop();
  });

  it('sends nothing while banned, then every user resumes after Retry-After', async () => {
    // One request earns the ban; from then on every gateway of the process waits for Retry-After.
    fake.injectFault({ kind: 'ban', retryAfterSeconds: 1, times: 1 });
    const probe = t.app.services.binance.create({ apiKey: users[0].apiKey, apiSecret: users[0].apiSecret, testnet: false });
    await expect(probe.getAccount()).rejects.toMatchObject({ kind: 'ip_banned' });
    expect(t.app.services.binance.traffic.pausedForMs).toBeGreaterThan(0);

    const report = await broadcast(t, admin, 'OPEN_LONG');

    expect(report).toMatchObject({ total: 20, placed: 20, failed: 0 });
    for (const r of report.results) expectExactlyOneOrder(fake, users.find((x) => x.id === r.userId)!, r.order!.clientOrderId);
    // The one 418 is the probe's: nobody hit the banned IP again.
    expect(fake.requests().filter((r) => r.status === 418)).toHaveLength(1);
  });

  it('a 418 answering an order mid fan-out pauses everyone; the refused orders are sent again once, after the ban', async () => {
    await broadcast(t, admin, 'CLOSE');
    fake.clearRequestLog();
    fake.injectFault({ kind: 'ban', method: 'POST', path: '/fapi/v1/order', retryAfterSeconds: 1, times: 1 });

    const report = await broadcast(t, admin, 'OPEN_SHORT');

    expect(report).toMatchObject({ total: 20, placed: 20, failed: 0 });
    const banned = fake.requests().filter((r) => r.status === 418);
    expect(banned.length).toBeGreaterThanOrEqual(1);
    for (const r of report.results) {
      const user = users.find((x) => x.id === r.userId)!;
      expect(r.order).toMatchObject({ side: 'SELL', status: 'FILLED' });
      expectExactlyOneOrder(fake, user, r.order!.clientOrderId);
      // Refused without executing (418) → one more send after the pause; otherwise one send.
      const posts = orderPosts(fake, user.apiKey);
      expect(posts.filter((p) => p.status === 200)).toHaveLength(1);
      expect(posts.filter((p) => p.status !== 200 && p.status !== 418)).toEqual([]);
    }
    // After the first successful answer following the ban, nothing was refused any more.
    const firstOkAfterBan = fake.requests().find((r) => r.seq > banned[0].seq && r.status === 200)!;
    expect(fake.requests().filter((r) => r.seq > firstOkAfterBan.seq && r.status === 418)).toEqual([]);
  });

  it('shows operators the bans and the weight the fan-outs spent on /metrics', async () => {
    const metrics = await (await fetch(t.url.replace('/graphql', '/metrics'))).text();
    const sample = (series: string) => Number(metrics.split('\n').find((l) => l.startsWith(`${series} `))?.slice(series.length + 1) ?? 'NaN');
    // The probe's 418 and the order's 418 above, each read from Binance's own answer.
    expect(sample('binance_pauses_total{kind="ip_banned"}')).toBeGreaterThanOrEqual(2);
    // Binance's X-MBX-USED-WEIGHT-1M as this node last read it.
    expect(sample('binance_request_weight_used')).toBeGreaterThan(0);
    expect(sample('binance_request_weight_limit')).toBeGreaterThan(0);
  });
});

describe('a slow account dispatched first, on a cold start', () => {
  const fake = new FakeBinance();
  let t: TestApp;

  beforeAll(async () => {
    await fake.start();
    t = await startWithFake(fake, null, { ENGINE_USER_TIMEOUT_MS: '3000' });
  });
  afterAll(async () => {
    await t.stop();
    await fake.stop();
  });

  it("does not hold up the others: what every account shares (the symbol's rules) is not fetched through its key", async () => {
    const users = await createBinanceUsers(t, fake, 4, { tag: 'cold' });
    const slow = users[0];
    fake.setLatency(5_000, slow.apiKey);
    // A signal id whose rotation dispatches the slow account first, so it is the first to need the symbol's rules.
    let id = randomUUID();
    while (dispatchOrder(users.map((x) => ({ key: x.id })), id)[0].key !== slow.id) id = randomUUID();
    const em = t.app.services.orm.em.fork();
    const signal = em.create(Signal, { id, source: SignalSource.MANUAL, action: SignalAction.OPEN_LONG, symbol: 'BTCUSDT', strength: '1', referencePrice: '50000', createdAt: new Date() });
    await em.flush();

    const report = await t.app.services.executor.execute(signal);

    const results = new Map(report.results.map((r) => [r.user.id, r]));
    expect(results.get(slow.id)).toMatchObject({ status: 'FAILED', dispatchRank: 0 });
    for (const user of users.slice(1)) {
      expect(results.get(user.id)).toMatchObject({ status: 'PLACED' });
      expect(fake.account(user.apiKey).orders).toHaveLength(1);
      expect(results.get(user.id)!.latencyMs).toBeLessThan(results.get(slow.id)!.latencyMs);
    }
  });
});
