import { FakeBinance } from '../support/fake-binance';
import { codeOf } from '../support/graphql-client';
import { signInAdmin, type SignedInUser } from '../support/factories';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { startTestApp, type TestApp } from '../support/test-app';
import { binanceEnv, createBinanceUsers, orderPosts, type FleetUser } from './support/binance-fleet';

const ADMIN = { email: 'concurrency-admin@example.com', password: 'concurrency admin password' };
const BROADCAST = 'mutation($i: ManualSignalInput!) { broadcastSignal(input: $i) { signal { id } placed skipped results { userId status reason } } }';

/** Two signals for the same accounts at the same moment, on one node or two: never twice the position. */
describe('signals racing for the same accounts', () => {
  const fake = new FakeBinance();
  let db: TestDatabase;
  let nodeA: TestApp;
  let nodeB: TestApp;
  let adminA: SignedInUser;
  let adminB: SignedInUser;
  let users: FleetUser[];

  beforeAll(async () => {
    await fake.start();
    db = await createTestDatabase();
    const env = { ...binanceEnv(fake), ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password };
    nodeA = await startTestApp({ database: db, env });
    nodeB = await startTestApp({ database: db, env });
    for (const node of [nodeA, nodeB]) node.app.services.prices.set('BTCUSDT', '50000');
    adminA = await signInAdmin(nodeA, ADMIN.email, ADMIN.password);
    adminB = await signInAdmin(nodeB, ADMIN.email, ADMIN.password);
    users = await createBinanceUsers(nodeA, fake, 3, { tag: 'race' });
    // The exchange answers slowly: the two fan-outs overlap for every user.
    fake.setLatency(150);
  });
  afterAll(async () => {
    await nodeA.stop();
    await nodeB.stop();
    await db.drop();
    await fake.stop();
  });

  it('two OPENs at once on two nodes: each user is opened once, the other signal sees the position and skips', async () => {
    const [onA, onB] = await Promise.all([
      nodeA.gql(BROADCAST, { i: { action: 'OPEN_LONG' } }, adminA.accessToken),
      nodeB.gql(BROADCAST, { i: { action: 'OPEN_LONG' } }, adminB.accessToken),
    ]);
    for (const user of users) {
      expect(orderPosts(fake, user.apiKey)).toHaveLength(1);
      expect(fake.account(user.apiKey).position('BTCUSDT').amt.toFixed()).toBe('0.05');
      const outcomes = [onA, onB].map((r) => r.data!.broadcastSignal.results.find((x: { userId: string }) => x.userId === user.id));
      expect(outcomes.map((o) => o.status).sort()).toEqual(['PLACED', 'SKIPPED']);
      expect(outcomes.find((o) => o.status === 'SKIPPED').reason).toBe('already long 0.0500000000 BTCUSDT');
    }
  });

  it('the same idempotency key twice at once trades once, and both get the first report', async () => {
    fake.setLatency(0);
    await nodeA.gql(BROADCAST, { i: { action: 'CLOSE' } }, adminA.accessToken);
    fake.clearRequestLog();
    fake.setLatency(150);
    const input = { action: 'OPEN_SHORT', idempotencyKey: 'desk-2026-12-01-open-1' };
    const [first, second] = await Promise.all([
      nodeA.gql(BROADCAST, { i: input }, adminA.accessToken),
      nodeB.gql(BROADCAST, { i: input }, adminB.accessToken),
    ]);
    expect(first.data!.broadcastSignal.signal.id).toBe(second.data!.broadcastSignal.signal.id);
    expect(first.data!.broadcastSignal.placed).toBe(3);
    expect(second.data!.broadcastSignal.placed).toBe(3);
    for (const user of users) expect(orderPosts(fake, user.apiKey)).toHaveLength(1);
    // Asked again later: the same report, nothing sent.
    const again = await nodeA.gql(BROADCAST, { i: input }, adminA.accessToken);
    expect(again.data!.broadcastSignal.signal.id).toBe(first.data!.broadcastSignal.signal.id);
    for (const user of users) expect(orderPosts(fake, user.apiKey)).toHaveLength(1);
    // The key is for that signal only.
    expect(codeOf(await nodeA.gql(BROADCAST, { i: { action: 'OPEN_LONG', idempotencyKey: input.idempotencyKey } }, adminA.accessToken))).toBe('CONFLICT');
    expect(codeOf(await nodeA.gql(BROADCAST, { i: { action: 'OPEN_LONG', idempotencyKey: 'has spaces and ✓' } }, adminA.accessToken))).toBe('BAD_USER_INPUT');
  });
});
