import { AccountMovement } from '../../src/entities/account-movement.entity';
import { WITHOUT_OWNER } from '../../src/entities/owner-filter';
import { UserExchangeConfig } from '../../src/entities/user-exchange-config.entity';
import { AuditLog } from '../../src/entities/audit-log.entity';
import { OrderOrigin, SignalAction, SignalSource } from '../../src/entities/enums';
import { Signal } from '../../src/entities/signal.entity';
import { unknownOutcome } from '../../src/engine/execution/user-outcome';
import { d } from './ledger-kit';
import { accessTokenOf, binanceEnv, createBinanceUser, waitFor, type FleetUser } from '../execution-e2e/support/binance-fleet';
import { FakeBinance } from '../support/fake-binance';
import { signInAdmin, type SignedInUser } from '../support/factories';
import { startTestApp, type TestApp } from '../support/test-app';

const ADMIN = { email: 'ledger-admin@example.com', password: 'ledger admin password' };
const BROADCAST = 'mutation($a: SignalAction!) { broadcastSignal(input: { action: $a }) { placed skipped failed results { userId status reason } } }';
const ME = '{ me { positions { side quantity } trades { items { side quantity realizedPnl } } risk { consecutiveLosses } exchangeConfig { isValid lastVerifyError } } }';

/**
 * Through the running server against the local Binance: fills, movements and
 * positions reach the ledger from the user-data stream, and the reconciler's
 * REST pass fills in what the stream missed, once.
 */
describe('the ledger behind a live Binance account', () => {
  const fake = new FakeBinance();
  let t: TestApp;
  let admin: SignedInUser;

  beforeAll(async () => {
    await fake.start();
    t = await startTestApp({
      env: {
        ...binanceEnv(fake), ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password, ENGINE_ENABLED: 'true', MARKET_FEED: 'simulated',
        SIMULATED_FEED_SPEED: '0.001', ENGINE_LEADER_CHECK_MS: '200',
      },
    });
    admin = await signInAdmin(t, ADMIN.email, ADMIN.password);
    await waitFor(() => t.app.services.engine.leading, 'this node to lead');
  });
  afterAll(async () => {
    await t.stop();
    await fake.stop();
  });

  const price = (p: string) => {
    fake.setPrice('BTCUSDT', p);
    t.app.services.prices.set('BTCUSDT', p);
  };
  const broadcast = async (action: string) => (await t.gql(BROADCAST, { a: action }, admin.accessToken)).data!.broadcastSignal;
  const streamed = async (user: FleetUser) => {
    await t.app.services.engine.reconcileNow();
    await waitFor(() => fake.userConnectionCount(user.apiKey) === 1, 'the user-data stream to connect');
  };
  const divergences = async () => {
    const series = 'reconciliation_divergences_total';
    const line = (await (await fetch(t.url.replace('/graphql', '/metrics'))).text()).split('\n').find((l) => l.startsWith(`${series} `));
    return Number(line?.slice(series.length + 1) ?? 'NaN');
  };
  const movements = (userId: string) =>
    t.app.services.orm.em.fork().find(AccountMovement, { user: userId }, { ...WITHOUT_OWNER, orderBy: { occurredAt: 'asc', id: 'asc' } });

  it('counts a close that fills in three parts as one losing close', async () => {
    const user = await createBinanceUser(t, fake, { tag: 'parts', leverage: 5, maxPositionPct: '0.1' });
    const token = await accessTokenOf(t, user);
    await streamed(user);
    price('50000');
    expect(await broadcast('OPEN_LONG')).toMatchObject({ placed: 1 });
    fake.setFillParts(user.apiKey, 3);
    price('49000');
    expect(await broadcast('CLOSE')).toMatchObject({ placed: 1 });
    await waitFor(async () => (await t.gql(ME, {}, token)).data!.me.trades.items.length === 4, 'the four fills to arrive');
    const me = (await t.gql(ME, {}, token)).data!.me;
    expect(me.trades.items.filter((x: { side: string }) => x.side === 'SELL')).toHaveLength(3);
    // Three losing fills, one losing close.
    await waitFor(async () => (await t.gql(ME, {}, token)).data!.me.risk.consecutiveLosses === 1, 'the close to reach risk');
    await t.app.services.engine.reconcileNow();
    expect((await t.gql(ME, {}, token)).data!.me.risk.consecutiveLosses).toBe(1);
    expect((await t.gql(ME, {}, token)).data!.me.trades.items).toHaveLength(4);
  });

  it('stores deposits, withdrawals and funding from the stream, and what the stream missed from the income history, once', async () => {
    const user = await createBinanceUser(t, fake, { tag: 'moves' });
    await streamed(user);
    fake.transfer(user.apiKey, '500');
    fake.chargeFunding(user.apiKey, 'BTCUSDT', '-2.5');
    await waitFor(async () => (await movements(user.id)).length === 2, 'the streamed movements');
    // The stream goes quiet (still connected): these only exist in the income history.
    fake.muteUserStream(user.apiKey);
    fake.transfer(user.apiKey, '-300');
    fake.adjustBalance(user.apiKey, 'INSURANCE_CLEAR', '-0.75');
    const config = await t.app.services.orm.em.fork().findOneOrFail(UserExchangeConfig, { user: user.id }, { ...WITHOUT_OWNER, populate: ['user', 'apiKeyEnc', 'apiSecretEnc'] });
    await t.app.services.reconciler.reconcileUser(config);
    await t.app.services.reconciler.reconcileUser(config);
    // The last two happened in the same millisecond: compared as a set.
    expect((await movements(user.id)).map((m) => [m.kind, m.rawReason, m.amount]).sort()).toEqual([
      ['DEPOSIT', 'DEPOSIT', '500.0000000000'],
      ['FUNDING_FEE', 'FUNDING_FEE', '-2.5000000000'],
      ['OTHER', 'INSURANCE_CLEAR', '-0.7500000000'],
      ['TRANSFER', 'TRANSFER', '-300.0000000000'],
    ]);
  });

  it('catches up what happened while the stream was away, though the reconnected stream stored newer movements first', async () => {
    const user = await createBinanceUser(t, fake, { tag: 'outage' });
    await streamed(user); // a full pass: both histories are read through now
    fake.muteUserStream(user.apiKey);
    fake.chargeFunding(user.apiKey, 'BTCUSDT', '-4.2');
    fake.transfer(user.apiKey, '-100');
    try {
      // Ten minutes of outage on the exchange's clock; the stream comes back and stores a fresh deposit before the next pass.
      fake.setServerTimeOffset(10 * 60_000);
      fake.muteUserStream(user.apiKey, false);
      const droppedAt = Date.now();
      expect(fake.dropUserConnections(user.apiKey)).toBe(1);
      await waitFor(() => (t.app.services.engine.streams.connectedSince(user.id)?.getTime() ?? 0) > droppedAt, 'the stream to reconnect');
      fake.transfer(user.apiKey, '250');
      await waitFor(async () => (await movements(user.id)).length === 1, 'the fresh deposit from the stream');
      const corrected = await divergences();
      await t.app.services.engine.reconcileNow();
      // What the pass had to add is what operators see as divergences.
      expect((await divergences()) - corrected).toBeGreaterThanOrEqual(2);
    } finally {
      fake.setServerTimeOffset(0);
    }
    expect((await movements(user.id)).map((m) => [m.kind, m.amount]).sort()).toEqual([
      ['DEPOSIT', '250.0000000000'],
      ['FUNDING_FEE', '-4.2000000000'],
      ['TRANSFER', '-100.0000000000'],
    ]);
  });

  it('imports nothing an account did between two bindings: a key bound again reads history from its new binding on', async () => {
    const user = await createBinanceUser(t, fake, { tag: 'rebound' });
    await streamed(user); // read through now under the first binding
    fake.muteUserStream(user.apiKey);
    fake.chargeFunding(user.apiKey, 'BTCUSDT', '-7'); // while no binding of ours watched (the key was removed)
    try {
      // Ten minutes later the key is bound again (a new binding row), and the account pays funding under it.
      fake.setServerTimeOffset(10 * 60_000);
      await t.app.services.orm.em.fork().getConnection().execute(
        "update user_exchange_configs set created_at = now() + interval '10 minutes' where user_id = ?", [user.id],
      );
      fake.chargeFunding(user.apiKey, 'BTCUSDT', '-1.5');
      await t.app.services.engine.reconcileNow();
    } finally {
      fake.setServerTimeOffset(0);
    }
    expect((await movements(user.id)).map((m) => [m.kind, m.amount])).toEqual([['FUNDING_FEE', '-1.5000000000']]);
  });

  it('a close the exchange fills only partly leaves the rest on the strategy, and the next CLOSE reaches it', async () => {
    const user = await createBinanceUser(t, fake, { tag: 'partial', leverage: 5, maxPositionPct: '0.1' });
    const token = await accessTokenOf(t, user);
    await streamed(user);
    price('50000');
    await broadcast('OPEN_LONG');
    fake.setMarketFillLimit(user.apiKey, '0.04');
    const close = (await broadcast('CLOSE')).results.find((r: { userId: string }) => r.userId === user.id);
    expect(close).toMatchObject({ status: 'PLACED', reason: 'closed 0.04 of 0.1 BTCUSDT; 0.06 stays open until the next signal' });
    await waitFor(async () => (await t.gql(ME, {}, token)).data!.me.positions[0]?.quantity === '0.06', 'the remainder to show');
    fake.setMarketFillLimit(user.apiKey, null);
    const rest = (await broadcast('CLOSE')).results.find((r: { userId: string }) => r.userId === user.id);
    expect(rest).toMatchObject({ status: 'PLACED', reason: 'position closed' });
    expect(fake.account(user.apiKey).position('BTCUSDT').amt.isZero()).toBe(true);
    const open = (await broadcast('OPEN_SHORT')).results.find((r: { userId: string }) => r.userId === user.id);
    expect(open.status).toBe('PLACED');
  });

  it('completes, once, an order the exchange executed whose answer never reached our write', async () => {
    const user = await createBinanceUser(t, fake, { tag: 'crash' });
    const token = await accessTokenOf(t, user);
    const em = t.app.services.orm.em.fork();
    const signal = em.create(Signal, { source: SignalSource.MANUAL, action: SignalAction.OPEN_LONG, symbol: 'BTCUSDT', strength: '1', referencePrice: '50000' });
    await em.flush();
    const { ledger } = t.app.services;
    const userEm = ledger.userEm(user.id);
    const clientOrderId = 'x-15PC4ZJycrashcrashcrashcrash01';
    const { order } = await ledger.openOrder(userEm, {
      userId: user.id, signalId: signal.id, clientOrderId, origin: OrderOrigin.MANUAL, symbol: 'BTCUSDT', side: 'BUY', quantity: '0.01', reduceOnly: false,
    });
    await ledger.persistExecutions(signal, [{ ...unknownOutcome(user.id, order), rank: 0, latencyMs: 20_000 }], 20_000);
    // The exchange executes it; the process dies before writing the answer (and no stream saw it).
    const gateway = t.app.services.binance.create({ apiKey: user.apiKey, apiSecret: user.apiSecret, testnet: false });
    await gateway.placeMarketOrder({ symbol: 'BTCUSDT', side: 'BUY', quantity: d('0.01'), clientOrderId, reduceOnly: false });
    await gateway.close();

    const config = await em.findOneOrFail(UserExchangeConfig, { user: user.id }, { ...WITHOUT_OWNER, populate: ['user', 'apiKeyEnc', 'apiSecretEnc'] });
    expect((await t.app.services.reconciler.reconcileUser(config)).ordersSettled).toBe(1);
    expect((await t.app.services.reconciler.reconcileUser(config)).ordersSettled).toBe(0);
    const me = (await t.gql('{ me { orders { items { clientOrderId status executedQty } } trades { items { quantity } } positions { side quantity } executions { status reason } } }', {}, token)).data!.me;
    expect(me.orders.items).toEqual([{ clientOrderId, status: 'FILLED', executedQty: '0.01' }]);
    expect(me.trades.items).toEqual([{ quantity: '0.01' }]);
    expect(me.positions).toEqual([{ side: 'LONG', quantity: '0.01' }]);
    expect(me.executions).toEqual([{ status: 'PLACED', reason: 'settled by the reconciler' }]);
    expect(fake.ordersWithClientId(clientOrderId)).toHaveLength(1);
  });

  it('declares failed, once, an order the exchange never got, only after any request in flight must be dead', async () => {
    const user = await createBinanceUser(t, fake, { tag: 'lost' });
    const token = await accessTokenOf(t, user);
    const em = t.app.services.orm.em.fork();
    const signal = em.create(Signal, { source: SignalSource.MANUAL, action: SignalAction.OPEN_LONG, symbol: 'BTCUSDT', strength: '1', referencePrice: '50000' });
    await em.flush();
    const { ledger } = t.app.services;
    const clientOrderId = 'x-15PC4ZJylostlostlostlostlost01';
    const { order } = await ledger.openOrder(ledger.userEm(user.id), {
      userId: user.id, signalId: signal.id, clientOrderId, origin: OrderOrigin.MANUAL, symbol: 'BTCUSDT', side: 'BUY', quantity: '0.01', reduceOnly: false,
    });
    await ledger.persistExecutions(signal, [{ ...unknownOutcome(user.id, order), rank: 0, latencyMs: 20_000 }], 20_000);
    const config = await em.findOneOrFail(UserExchangeConfig, { user: user.id }, { ...WITHOUT_OWNER, populate: ['user', 'apiKeyEnc', 'apiSecretEnc'] });
    // Just sent: the request may still be on its way, so the exchange not knowing it yet proves nothing.
    expect((await t.app.services.reconciler.reconcileUser(config)).ordersSettled).toBe(0);
    expect((await t.gql('{ me { orders { items { status } } } }', {}, token)).data!.me.orders.items).toEqual([{ status: 'PENDING' }]);
    // Two minutes later it still is not there: it was never placed.
    await em.getConnection().execute("update orders set created_at = now() - interval '2 minutes' where id = ?", [order.id]);
    expect((await t.app.services.reconciler.reconcileUser(config)).ordersSettled).toBe(1);
    expect((await t.app.services.reconciler.reconcileUser(config)).ordersSettled).toBe(0);
    const me = (await t.gql('{ me { orders { items { clientOrderId status } } positions { quantity } executions { status reason } } }', {}, token)).data!.me;
    expect(me.orders.items).toEqual([{ clientOrderId, status: 'FAILED' }]);
    expect(me.positions).toEqual([]);
    expect(me.executions).toEqual([{ status: 'FAILED', reason: 'the exchange has no such order: it was never placed' }]);
    expect(fake.ordersWithClientId(clientOrderId)).toHaveLength(0);
  });

  it('switches off a key that can no longer be decrypted, with a clear reason and an audit row, and keeps trading for others', async () => {
    const broken = await createBinanceUser(t, fake, { tag: 'broken' });
    const fine = await createBinanceUser(t, fake, { tag: 'fine' });
    const token = await accessTokenOf(t, broken);
    await t.app.services.orm.em.fork().nativeUpdate(UserExchangeConfig, { user: broken.id }, { apiSecretEnc: 'v1:unknownk:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }, WITHOUT_OWNER);
    t.app.services.contexts.invalidate(broken.id);
    price('50000');
    const report = await broadcast('OPEN_LONG');
    expect(report.results.find((r: { userId: string }) => r.userId === broken.id)).toEqual({
      userId: broken.id, status: 'FAILED', reason: 'the stored API key could not be read; set the API key and secret again',
    });
    expect(report.results.find((r: { userId: string }) => r.userId === fine.id).status).toBe('PLACED');
    expect((await t.gql(ME, {}, token)).data!.me.exchangeConfig).toEqual({
      isValid: false, lastVerifyError: 'the stored API key could not be read; set the API key and secret again',
    });
    const audit = await t.app.services.orm.em.fork().find(AuditLog, { userId: broken.id, action: 'exchange.key_invalid' });
    expect(audit).toHaveLength(1);
    // Switched off: the next signal skips it instead of failing it again.
    const next = (await broadcast('OPEN_LONG')).results.find((r: { userId: string }) => r.userId === broken.id);
    expect(next.status).toBe('SKIPPED');
  });
});
