import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { eventually } from '../support/eventually';
import { loginFrom, randomLoopback } from '../support/client-address';
import { codeOf } from '../support/graphql-client';
import { PASSWORD, signUp } from '../support/factories';
import { MailCapture } from '../support/mail-capture';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { startTestApp, TEST_REDIS_URL, type TestApp } from '../support/test-app';

describe('sign-in counters on Redis', () => {
  const mail = new MailCapture();
  let db: TestDatabase;
  let nodeA: TestApp;
  let nodeB: TestApp;

  beforeAll(async () => {
    db = await createTestDatabase();
    const env = { SMTP_URL: await mail.start(), REDIS_URL: TEST_REDIS_URL };
    nodeA = await startTestApp({ env, database: db });
    nodeB = await startTestApp({ env, database: db });
  });
  afterAll(async () => {
    await nodeA.stop();
    await nodeB.stop();
    await db.drop();
    await mail.stop();
  });

  it('counts failures on every node together: five spread over two nodes lock the account on both', async () => {
    const user = await signUp(nodeA, mail);
    const attacker = randomLoopback();
    for (let i = 1; i <= 5; i++) {
      const node = i % 2 ? nodeA : nodeB;
      expect(codeOf(await loginFrom(node.url, attacker, user.email, `guess ${i} xxxx`))).toBe('UNAUTHENTICATED');
    }
    expect(codeOf(await loginFrom(nodeA.url, attacker, user.email, PASSWORD))).toBe('RATE_LIMITED');
    expect(codeOf(await loginFrom(nodeB.url, attacker, user.email, PASSWORD))).toBe('RATE_LIMITED');
  });
});

/** A TCP hop in front of the test Redis that the test can cut and restore, like a Redis going away and coming back. */
class RedisLink {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  port = 0;

  get isUp(): boolean {
    return this.server !== null;
  }

  async up(): Promise<void> {
    const target = new URL(TEST_REDIS_URL);
    this.server = createServer((client) => {
      const upstream = connect(Number(target.port || 6379), target.hostname);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((r) => this.server!.listen(this.port, '127.0.0.1', () => r()));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async down(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    this.server = null;
  }
}

describe('sign-in counters while Redis cannot be reached', () => {
  const mail = new MailCapture();
  const link = new RedisLink();
  let t: TestApp;

  beforeAll(async () => {
    await link.up();
    t = await startTestApp({ env: { SMTP_URL: await mail.start(), REDIS_URL: `redis://127.0.0.1:${link.port}` } });
  });
  afterAll(async () => {
    // The bus and the counters' client close cleanly only against a reachable Redis.
    if (!link.isUp) await link.up();
    if (t) await t.stop();
    await link.down();
    await mail.stop();
  });

  it('still locks after five failures (each node counting on its own) instead of letting guesses through, and the lock outlives the outage', async () => {
    const user = await signUp(t, mail);
    const attacker = randomLoopback();
    expect(codeOf(await loginFrom(t.url, randomLoopback(), user.email, 'guess 0 xxxx'))).toBe('UNAUTHENTICATED');
    // Counted in Redis while it answers (whatever deployment prefix the key carries).
    expect(await t.app.services.redis!.keys(`*loginAccount:${user.email}`)).toHaveLength(1);

    await link.down();
    await eventually('Redis to be seen as gone', () => t.app.services.redis!.status !== 'ready');
    for (let i = 1; i <= 5; i++) expect(codeOf(await loginFrom(t.url, attacker, user.email, `guess ${i} xxxx`))).toBe('UNAUTHENTICATED');
    expect(codeOf(await loginFrom(t.url, attacker, user.email, PASSWORD))).toBe('RATE_LIMITED');
    // The owner on their known network is not held by the stranger's failures, outage or not.
    expect((await loginFrom(t.url, '127.0.0.1', user.email, PASSWORD)).errors).toBeUndefined();

    await link.up();
    await eventually('Redis to be back', () => t.app.services.redis!.status === 'ready', 15000);
    // Redis never saw that lock (it holds the one failure counted before the outage), but PostgreSQL did: it holds.
    expect(codeOf(await loginFrom(t.url, randomLoopback(), user.email, PASSWORD))).toBe('RATE_LIMITED');
    expect((await loginFrom(t.url, '127.0.0.1', user.email, PASSWORD)).errors).toBeUndefined();
  });
});
