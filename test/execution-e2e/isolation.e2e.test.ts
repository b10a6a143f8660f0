import Redis from 'ioredis';
import { Topic, userTopic } from '../../src/realtime/topics';
import { FakeBinance } from '../support/fake-binance';
import { signInAdmin, signUp, type SignedInUser } from '../support/factories';
import { connectSocket, type SocketClient } from '../support/graphql-client';
import { MailCapture } from '../support/mail-capture';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { startTestApp, TEST_REDIS_URL, type TestApp } from '../support/test-app';
import { binanceEnv, binanceKey, waitFor } from './support/binance-fleet';

const ADMIN = { email: 'ops@example.com', password: 'ops password 123' };
const BROADCAST = `mutation($i: ManualSignalInput!) { broadcastSignal(input: $i) {
  total placed signal { id } results { userId status order { clientOrderId } } } }`;
const ORDERS = 'subscription { orderUpdated { clientOrderId status quantity } }';
const POSITIONS = 'subscription { positionUpdated { symbol side quantity } }';
const RESULTS = 'subscription { executionResult { userId signalId status } }';
const REPORTS = 'subscription { executionReports { signal { id } total placed results { userId status } } }';

/** Resolves once `count` nodes listen on the channel, so a publish cannot race the subscription. */
async function subscribers(node: TestApp, topic: string, count: number) {
  const channel = node.app.services.bus.channel(topic);
  const redis = new Redis(TEST_REDIS_URL);
  try {
    await waitFor(async () => {
      const [, n] = (await redis.pubsub('NUMSUB', channel)) as [string, number];
      return Number(n) >= count;
    }, `${count} subscriber(s) on ${channel}`);
  } finally {
    redis.disconnect();
  }
}

const errorCode = (errors: unknown[]) => {
  const flat = errors.flatMap((e) => (Array.isArray(e) ? e : [e])) as Array<{ extensions?: { code?: string } }>;
  return flat[0]?.extensions?.code;
};

describe('live events of a fan-out, across two nodes sharing Redis', () => {
  const fake = new FakeBinance();
  const mail = new MailCapture();
  let db: TestDatabase;
  let node1: TestApp;
  let node2: TestApp;
  let admin: SignedInUser;
  let alice: SignedInUser;
  let bob: SignedInUser;
  const sockets: SocketClient[] = [];

  async function bindKey(user: SignedInUser, balance: number) {
    const key = { apiKey: binanceKey(), apiSecret: binanceKey() };
    fake.addAccount({ ...key, balance });
    const res = await node1.gql(
      'mutation($i: ExchangeConfigInput!) { setExchangeConfig(input: $i) { isValid } }',
      { i: { exchange: 'BINANCE', ...key, leverage: 5, maxPositionPct: 0.05 } },
      user.accessToken,
    );
    expect(res.data!.setExchangeConfig).toEqual({ isValid: true });
  }

  const socket = (node: TestApp, token: string) => {
    const s = connectSocket(node.url, token);
    sockets.push(s);
    return s;
  };

  beforeAll(async () => {
    await fake.start();
    db = await createTestDatabase();
    const env = { ...binanceEnv(fake), REDIS_URL: TEST_REDIS_URL, SMTP_URL: await mail.start(), ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password };
    node1 = await startTestApp({ database: db, env });
    node2 = await startTestApp({ database: db, env });
    node1.app.services.prices.set('BTCUSDT', '50000');
    admin = await signInAdmin(node1, ADMIN.email, ADMIN.password);
    alice = await signUp(node1, mail);
    bob = await signUp(node1, mail);
    // Different sizes, so a position event says whose it is: 0.05 BTC for Alice, 0.1 BTC for Bob.
    await bindKey(alice, 10_000);
    await bindKey(bob, 20_000);
  });
  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.dispose()));
    await node1.stop();
    await node2.stop();
    await db.drop();
    await fake.stop();
    await mail.stop();
  });

  it("never delivers user B's orderUpdated, positionUpdated or executionResult to user A, on either node", async () => {
    const aliceOnNode1 = socket(node1, alice.accessToken);
    const bobOnNode1 = socket(node1, bob.accessToken);
    const aliceOnNode2 = socket(node2, alice.accessToken);
    const subs = {
      aliceOrders: aliceOnNode1.subscribe(ORDERS),
      alicePositions: aliceOnNode1.subscribe(POSITIONS),
      aliceResults: aliceOnNode1.subscribe(RESULTS),
      bobResults: bobOnNode1.subscribe(RESULTS),
      bobPositions: bobOnNode1.subscribe(POSITIONS),
      aliceResultsOnNode2: aliceOnNode2.subscribe(RESULTS),
    };
    await subscribers(node1, userTopic(Topic.ORDER_UPDATED, alice.id), 1);
    await subscribers(node1, userTopic(Topic.POSITION_UPDATED, alice.id), 1);
    await subscribers(node1, userTopic(Topic.POSITION_UPDATED, bob.id), 1);
    await subscribers(node1, userTopic(Topic.EXECUTION_RESULT, alice.id), 2);
    await subscribers(node1, userTopic(Topic.EXECUTION_RESULT, bob.id), 1);

    const open = (await node1.gql(BROADCAST, { i: { action: 'OPEN_LONG' } }, admin.accessToken)).data!.broadcastSignal;
    const close = (await node1.gql(BROADCAST, { i: { action: 'CLOSE' } }, admin.accessToken)).data!.broadcastSignal;
    expect([open.placed, close.placed]).toEqual([2, 2]);
    const clientIdsOf = (userId: string) => [open, close].map((r) => r.results.find((x: { userId: string }) => x.userId === userId).order.clientOrderId);

    const closeResult = (userId: string) => ({ executionResult: { userId, signalId: close.signal.id, status: 'PLACED' } });
    await waitFor(() => subs.aliceResults.events.some((e) => JSON.stringify(e) === JSON.stringify(closeResult(alice.id))), "Alice's CLOSE result");
    await waitFor(() => subs.bobResults.events.some((e) => JSON.stringify(e) === JSON.stringify(closeResult(bob.id))), "Bob's CLOSE result");
    await waitFor(() => subs.aliceResultsOnNode2.events.length >= 2, "Alice's results on node 2");

    // Alice sees her own two orders and positions, and nothing of Bob's.
    const aliceOrderIds = new Set(subs.aliceOrders.events.map((e) => e.orderUpdated.clientOrderId));
    expect(aliceOrderIds).toEqual(new Set(clientIdsOf(alice.id)));
    for (const id of clientIdsOf(bob.id)) expect(aliceOrderIds.has(id)).toBe(false);
    expect(subs.alicePositions.events.length).toBeGreaterThanOrEqual(2);
    for (const e of subs.alicePositions.events) expect(['0.05', '0']).toContain(e.positionUpdated.quantity);
    expect(subs.bobPositions.events.some((e) => e.positionUpdated.quantity === '0.1')).toBe(true);
    for (const e of subs.bobPositions.events) expect(['0.1', '0']).toContain(e.positionUpdated.quantity);

    expect(subs.aliceResults.events.map((e) => e.executionResult)).toEqual([
      { userId: alice.id, signalId: open.signal.id, status: 'PLACED' },
      { userId: alice.id, signalId: close.signal.id, status: 'PLACED' },
    ]);
    expect(subs.bobResults.events.every((e) => e.executionResult.userId === bob.id)).toBe(true);
    // Node 2 ran none of it: Alice's own results reached her there through Redis, and only hers.
    expect(subs.aliceResultsOnNode2.events.map((e) => e.executionResult)).toEqual(subs.aliceResults.events.map((e) => e.executionResult));
    for (const s of Object.values(subs)) expect(s.errors).toEqual([]);
  });

  it('gives the admin the executionReports stream (on another node too) and refuses it to a user with FORBIDDEN', async () => {
    const userSocket = socket(node2, alice.accessToken);
    const refused = userSocket.subscribe(REPORTS);
    await refused.completed;
    expect(errorCode(refused.errors)).toBe('FORBIDDEN');
    expect(refused.events.filter((e) => e.executionReports)).toEqual([]);

    const reports = socket(node2, admin.accessToken).subscribe(REPORTS);
    await subscribers(node1, Topic.EXECUTION_REPORTS, 1);
    const open = (await node1.gql(BROADCAST, { i: { action: 'OPEN_SHORT', strength: 1 } }, admin.accessToken)).data!.broadcastSignal;
    await waitFor(() => reports.events.some((e) => e.executionReports.signal.id === open.signal.id), 'the report on node 2');
    const report = reports.events.find((e) => e.executionReports.signal.id === open.signal.id).executionReports;
    expect(report).toMatchObject({ total: 2, placed: 2 });
    expect(new Set(report.results.map((r: { userId: string }) => r.userId))).toEqual(new Set([alice.id, bob.id]));
    expect(reports.errors).toEqual([]);
  });
});
