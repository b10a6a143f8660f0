import { ExecutionStatus, OrderStatus, SignalSource } from '../../src/entities/enums';
import { Signal } from '../../src/entities/signal.entity';
import { FakeBinance } from '../support/fake-binance';
import { signInAdmin } from '../support/factories';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { startTestApp, type TestApp } from '../support/test-app';
import {
  accessTokenOf, binanceEnv, createBinanceUsers, orderPosts, storedExecutions, storedOrders, waitFor, type FleetUser,
} from './support/binance-fleet';

const ADMIN = { email: 'ops@example.com', password: 'ops password 123' };
const BROADCAST = 'mutation($i: ManualSignalInput!) { broadcastSignal(input: $i) { total } }';
const POSITIONS = '{ me { positions { symbol side quantity } orders { items { clientOrderId status } } } }';

describe('a node killed in the middle of a fan-out, and restarted', () => {
  const fake = new FakeBinance();
  let db: TestDatabase;
  let nodeA: TestApp;
  let nodeB: TestApp;
  let users: FleetUser[];
  let hung: FleetUser[];

  const start = async () => {
    const t = await startTestApp({
      database: db,
      env: { ...binanceEnv(fake), ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password, ENGINE_USER_TIMEOUT_MS: '3000' },
    });
    t.app.services.prices.set('BTCUSDT', fake.price('BTCUSDT').toString());
    return t;
  };

  beforeAll(async () => {
    await fake.start();
    db = await createTestDatabase();
    nodeA = await start();
    users = await createBinanceUsers(nodeA, fake, 8, { tag: 'restart' });
    hung = users.slice(0, 3);
  });
  afterAll(async () => {
    await nodeB?.stop();
    await db.drop();
    await fake.stop();
  });

  it('leaves no duplicate at the exchange, and the positions it reports match the exchange', async () => {
    const adminOnA = await signInAdmin(nodeA, ADMIN.email, ADMIN.password);
    // These orders execute on the exchange, but node A never hears back.
    for (const user of hung) fake.injectFault({ kind: 'hang', apiKey: user.apiKey, method: 'POST', path: '/fapi/v1/order' });
    const inFlight = nodeA.gql(BROADCAST, { i: { action: 'OPEN_LONG' } }, adminOnA.accessToken).catch(() => null);
    await waitFor(() => users.every((u) => fake.account(u.apiKey).orders.length === 1), 'every order to reach the exchange');

    // The kill: from here on nothing node A does reaches the database (its tasks and its report die with it).
    await nodeA.app.services.orm.close(true);
    await nodeA.stop();
    await inFlight;

    nodeB = await start();
    const em = nodeB.app.services.orm.em.fork();
    const signal = await em.findOneOrFail(Signal, { source: SignalSource.MANUAL }, { orderBy: { createdAt: 'desc' } });
    expect((await storedExecutions(nodeB, signal.id)).size).toBe(0);
    const before = new Map((await storedOrders(nodeB, signal.id)).map((o) => [o.user.id, o.status]));
    for (const user of hung) expect(before.get(user.id)).toBe(OrderStatus.PENDING);
    const postsBeforeRestart = fake.requests({ method: 'POST', path: '/fapi/v1/order' }).length;

    // A restarted node reconciles first (leader work at start), then the signal is run again.
    const summary = await nodeB.app.services.reconciler.reconcileAll();
    const rerun = await nodeB.app.services.executor.execute(signal);

    expect(summary).toMatchObject({ users: 8, failures: 0 });
    expect(rerun).toMatchObject({ total: 8, placed: 8, failed: 0 });
    // Node B sent nothing: every order was found on the exchange by its client id.
    expect(fake.requests({ method: 'POST', path: '/fapi/v1/order' })).toHaveLength(postsBeforeRestart);
    for (const user of users) {
      expect(orderPosts(fake, user.apiKey)).toHaveLength(1);
      const [order] = fake.account(user.apiKey).orders;
      expect(fake.ordersWithClientId(order.clientOrderId)).toHaveLength(1);
    }
    const rows = await storedExecutions(nodeB, signal.id);
    for (const user of users) expect(rows.get(user.id)).toMatchObject({ status: ExecutionStatus.PLACED });
    for (const order of await storedOrders(nodeB, signal.id)) expect(order.status).toBe(OrderStatus.FILLED);

    for (const user of users) {
      const me = (await nodeB.gql(POSITIONS, {}, await accessTokenOf(nodeB, user))).data!.me;
      const onExchange = fake.account(user.apiKey).position('BTCUSDT').amt;
      expect({ user: user.email, positions: me.positions }).toEqual({
        user: user.email,
        positions: [{ symbol: 'BTCUSDT', side: 'LONG', quantity: onExchange.toString() }],
      });
      expect(me.orders.items).toEqual([{ clientOrderId: fake.account(user.apiKey).orders[0].clientOrderId, status: 'FILLED' }]);
    }

    // Every position that survived the crash is still the strategy's: the next CLOSE reaches all eight.
    const admin = await signInAdmin(nodeB, ADMIN.email, ADMIN.password);
    const close = await nodeB.gql('mutation { broadcastSignal(input: { action: CLOSE }) { total placed } }', {}, admin.accessToken);
    expect(close.data!.broadcastSignal).toEqual({ total: 8, placed: 8 });
    for (const user of users) expect(fake.account(user.apiKey).positions.size).toBe(0);
  });
});
