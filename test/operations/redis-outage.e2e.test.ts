import { createHash } from 'node:crypto';
import { Topic } from '../../src/realtime/topics';
import { loginFrom, randomLoopback } from '../support/client-address';
import { eventually } from '../support/eventually';
import { login, PASSWORD, signInAdmin, signUp, type SignedInUser } from '../support/factories';
import { codeOf, connectSocket } from '../support/graphql-client';
import { MailCapture } from '../support/mail-capture';
import { startRedisProcess, type RedisProcess } from '../support/redis-process';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { startTestApp, type TestApp } from '../support/test-app';

const ADMIN = { email: 'ops-redis@example.com', password: 'ops password 123' };
const BROADCAST = 'mutation($i: ManualSignalInput!) { broadcastSignal(input: $i) { total placed skipped failed results { userId status reason } } }';
const PAPER = 'mutation { setExchangeConfig(input: { exchange: PAPER, leverage: 2, maxPositionPct: 0.05 }) { isValid } }';

const base = (t: TestApp) => t.url.replace('/graphql', '');
const ready = async (t: TestApp) => {
  const res = await fetch(`${base(t)}/readyz`);
  return { status: res.status, body: (await res.json()) as { database: boolean; bus: boolean } };
};
const metric = async (t: TestApp, name: string) => {
  const text = await (await fetch(`${base(t)}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : NaN;
};

describe('a Redis outage (a redis-server this test kills and restarts)', () => {
  let redis: RedisProcess;
  let db: TestDatabase;
  let a: TestApp;
  let b: TestApp;
  const mail = new MailCapture();
  let admin: SignedInUser;
  const users: SignedInUser[] = [];
  // The failure this guards against: an unhandled rejection from a failed publish ends the process.
  const unhandled: unknown[] = [];
  const record = (reason: unknown) => unhandled.push(reason);

  const subscribed = (t: TestApp, topic: string) =>
    eventually(`a subscriber on ${topic}`, async () => {
      const client = redis.client();
      try {
        const [, n] = (await client.pubsub('NUMSUB', t.app.services.bus.channel(topic))) as [string, number];
        return Number(n) > 0;
      } catch {
        return false;
      } finally {
        await client.quit().catch(() => client.disconnect());
      }
    });

  beforeAll(async () => {
    process.on('unhandledRejection', record);
    redis = await startRedisProcess();
    db = await createTestDatabase();
    // One user at a time on node A, so Redis can die while the fan-out is still going.
    const env = { REDIS_URL: redis.url, SMTP_URL: await mail.start(), ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password, ENGINE_CONCURRENCY: '1' };
    a = await startTestApp({ database: db, env });
    b = await startTestApp({ database: db, env });
    for (const t of [a, b]) t.app.services.prices.set('BTCUSDT', '50000');
    admin = await signInAdmin(a, ADMIN.email, ADMIN.password);
    for (let i = 0; i < 8; i++) {
      const user = await signUp(a, mail);
      expect((await a.gql(PAPER, {}, user.accessToken)).data!.setExchangeConfig.isValid).toBe(true);
      users.push(user);
    }
  });
  afterAll(async () => {
    process.off('unhandledRejection', record);
    await a?.stop();
    await b?.stop();
    await db?.drop();
    await redis?.kill();
    await mail.stop();
  });

  afterEach(async () => {
    // Every test leaves Redis running for the next one.
    if (!redis.running) await redis.start();
    expect(unhandled).toEqual([]);
  });

  it('answers /readyz 503 while Redis is away and 200 once it is back; the API keeps answering meanwhile', async () => {
    expect(await ready(a)).toEqual({ status: 200, body: { status: 'ready', database: true, bus: true } });
    await redis.kill();
    for (const t of [a, b]) {
      await eventually('readyz to say the bus is away', async () => (await ready(t)).status === 503);
      expect((await ready(t)).body).toMatchObject({ database: true, bus: false });
      const me = await t.gql('{ me { user { email } } }', {}, users[0].accessToken);
      expect(me.data!.me.user.email).toBe(users[0].email);
      // The cluster-wide socket cap cannot be checked without Redis: a socket opens on the node's own cap.
      const socket = connectSocket(t.url, users[0].accessToken);
      const answer = await socket.client.iterate({ query: '{ __typename }' }).next();
      expect(answer.value).toEqual({ data: { __typename: 'Query' } });
      await socket.dispose();
    }
    await redis.start();
    for (const t of [a, b]) await eventually('readyz to recover', async () => (await ready(t)).status === 200);
  });

  it('keeps the sign-in lockout while Redis is away: counted on each node, and a lock reached on one holds on every node', async () => {
    const [user] = users;
    await redis.kill();
    await eventually('the outage to be seen', async () => (await ready(a)).body.bus === false);
    expect((await login(a, user.email)).errors).toBeUndefined();
    for (let i = 0; i < 5; i++) expect(codeOf(await login(a, user.email, 'wrong password!'))).toBe('UNAUTHENTICATED');
    expect(codeOf(await login(a, user.email))).toBe('RATE_LIMITED');
    // Node B's own count is at zero, but the lock node A reached is in PostgreSQL.
    expect(codeOf(await login(b, user.email))).toBe('RATE_LIMITED');
    await redis.start();
    await eventually('the bus to be back', async () => (await ready(a)).status === 200);
    expect(codeOf(await login(a, user.email))).toBe('RATE_LIMITED');
  });

  it('keeps a lock reached before the outage on every node until it ends; the owner still signs in from a network they used', async () => {
    const user = users[2];
    const home = randomLoopback();
    expect((await loginFrom(a.url, home, user.email, PASSWORD)).errors).toBeUndefined();
    const stranger = randomLoopback();
    for (let i = 1; i <= 5; i++) expect(codeOf(await loginFrom(a.url, stranger, user.email, `guess number ${i}`))).toBe('UNAUTHENTICATED');
    expect(codeOf(await loginFrom(a.url, stranger, user.email, PASSWORD))).toBe('RATE_LIMITED');

    await redis.kill();
    for (const t of [a, b]) await eventually('the outage to be seen', async () => (await ready(t)).body.bus === false);
    // Every node's in-memory counters start at zero now: the right password from any stranger network is still refused.
    for (const t of [a, b]) {
      for (const from of [stranger, randomLoopback()]) {
        const refused = await loginFrom(t.url, from, user.email, PASSWORD);
        expect(codeOf(refused)).toBe('RATE_LIMITED');
        expect(refused.errors![0].extensions!.retryAfterSeconds).toBeGreaterThan(600);
      }
    }
    expect((await loginFrom(b.url, home, user.email, PASSWORD)).errors).toBeUndefined();

    // The lock's end, brought forward rather than waited for: Redis still away, the right password signs in again.
    const keyHash = createHash('sha256').update(`loginAccount\u0000${user.email}`).digest('hex');
    const moved = await a.app.services.orm.em.fork().getConnection()
      .execute("update auth_locks set locked_until = now() - interval '1 second' where key_hash = ? returning counter", [keyHash]);
    expect(moved).toEqual([{ counter: 'loginAccount' }]);
    expect((await loginFrom(b.url, randomLoopback(), user.email, PASSWORD)).errors).toBeUndefined();
    await redis.start();
    await eventually('the bus to be back', async () => (await ready(a)).status === 200);
  });

  it('delivers again after the reconnect: a subscriber on node B receives what node A publishes', async () => {
    const [alice] = users;
    const socket = connectSocket(b.url, alice.accessToken);
    const signals = socket.subscribe<{ signalEmitted: { action: string } }>('subscription { signalEmitted { action } }');
    await subscribed(b, Topic.SIGNAL_EMITTED);
    await redis.kill();
    await eventually('the outage to be seen', async () => (await ready(b)).body.bus === false);
    await redis.start();
    // A fresh Redis knows no subscriber until node B subscribes again by itself.
    await subscribed(b, Topic.SIGNAL_EMITTED);
    const res = await a.gql(BROADCAST, { i: { action: 'CLOSE', reason: 'after the outage' } }, admin.accessToken);
    expect(res.errors).toBeUndefined();
    expect((await signals.next(15_000)).signalEmitted.action).toBe('CLOSE');
    await socket.dispose();
  });

  it('finishes a fan-out Redis dies in the middle of: the report comes back, lost events are counted', async () => {
    const failuresBefore = await metric(a, 'bus_publish_failures_total');
    // Kill Redis as soon as the first user's event reaches it, while the others still wait their turn.
    const watcher = redis.client();
    await watcher.psubscribe(`${a.app.services.bus.channel(Topic.ORDER_UPDATED)}:*`);
    watcher.once('pmessage', () => void redis.kill());
    const res = await a.gql(BROADCAST, { i: { action: 'OPEN_LONG', reason: 'mid-fan-out outage' } }, admin.accessToken);
    await watcher.quit().catch(() => undefined);
    expect(res.errors).toBeUndefined();
    expect(res.data!.broadcastSignal).toMatchObject({ total: users.length, placed: users.length, failed: 0 });
    await eventually('the lost events to be counted', async () => (await metric(a, 'bus_publish_failures_total')) > failuresBefore);
    // Every order is in the books whatever the bus lost.
    for (const user of users) {
      const me = await a.gql('{ me { positions { side quantity } } }', {}, user.accessToken);
      expect(me.data!.me.positions).toEqual([{ side: 'LONG', quantity: '0.02' }]);
    }
    await redis.start();
    await eventually('the bus to be back', async () => (await ready(a)).status === 200);
    const close = await a.gql(BROADCAST, { i: { action: 'CLOSE' } }, admin.accessToken);
    expect(close.data!.broadcastSignal).toMatchObject({ placed: users.length, failed: 0 });
  });

  it('closes, once Redis is back, a socket whose session ended while the revocation could not travel', async () => {
    const user = users[1];
    const fresh = await login(a, user.email);
    const token = fresh.data!.login.accessToken as string;
    const socket = connectSocket(b.url, token);
    socket.subscribe('subscription { signalEmitted { id } }');
    await subscribed(b, Topic.SIGNAL_EMITTED);
    await redis.kill();
    await eventually('the outage to be seen', async () => (await ready(a)).body.bus === false);
    expect((await a.gql('mutation { logout }', {}, token)).errors).toBeUndefined();
    await redis.start();
    expect((await socket.closed).code).toBe(4403);
  });
});
