import { codeOf, connectSocket, gql } from '../support/graphql-client';
import { login, signUp } from '../support/factories';
import { MailCapture } from '../support/mail-capture';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { startTestApp, TEST_REDIS_URL, type TestApp } from '../support/test-app';
import { Topic } from '../../src/realtime/topics';
import Redis from 'ioredis';

async function waitForRedisSubscribers(channel: string) {
  const redis = new Redis(TEST_REDIS_URL);
  try {
    for (let i = 0; i < 100; i++) {
      const [, n] = (await redis.pubsub('NUMSUB', channel)) as [string, number];
      if (Number(n) > 0) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`nobody subscribed to ${channel}`);
  } finally {
    redis.disconnect();
  }
}

describe('two nodes sharing PostgreSQL and Redis', () => {
  let db: TestDatabase;
  let a: TestApp;
  let b: TestApp;
  const mail = new MailCapture();

  beforeAll(async () => {
    db = await createTestDatabase();
    const env = { REDIS_URL: TEST_REDIS_URL, SMTP_URL: await mail.start() };
    a = await startTestApp({ database: db, env });
    b = await startTestApp({ database: db, env });
  });
  afterAll(async () => {
    await a.stop();
    await b.stop();
    await db.drop();
    await mail.stop();
  });

  it('refuses a socket without a token or with a bad one (4401)', async () => {
    expect((await connectSocket(a.url).closed).code).toBe(4401);
    expect((await connectSocket(a.url, 'forged.token.here').closed).code).toBe(4401);
  });

  it('delivers an event published on node A to a subscriber connected to node B', async () => {
    const user = await signUp(a, mail);
    const socket = connectSocket(b.url, user.accessToken);
    const sub = socket.subscribe('subscription { signalEmitted { id action symbol strength votes { witness } } }');
    await waitForRedisSubscribers(b.app.services.bus.channel(Topic.SIGNAL_EMITTED));
    a.app.services.bus.publish(Topic.SIGNAL_EMITTED, {
      id: 'f0f0f0f0-0000-4000-8000-000000000001',
      source: 'MANUAL',
      action: 'OPEN_LONG',
      symbol: 'BTCUSDT',
      strength: 1,
      referencePrice: '50000',
      votes: [],
      createdAt: new Date().toISOString(),
    });
    expect(await sub.next()).toEqual({
      signalEmitted: { id: 'f0f0f0f0-0000-4000-8000-000000000001', action: 'OPEN_LONG', symbol: 'BTCUSDT', strength: 1, votes: [] },
    });
    await socket.dispose();
  });

  it('closes a socket on node B when the session logs out on node A', async () => {
    const user = await signUp(a, mail);
    const socket = connectSocket(b.url, user.accessToken);
    socket.subscribe('subscription { signalEmitted { id } }');
    await waitForRedisSubscribers(b.app.services.bus.channel(Topic.SIGNAL_EMITTED));
    await a.gql('mutation { logout }', {}, user.accessToken);
    expect((await socket.closed).code).toBe(4403);
  });

  it('shares the failed-login counter across nodes', async () => {
    const user = await signUp(a, mail);
    for (const node of [a, b, a, b, a]) expect(codeOf(await login(node, user.email, 'wrong password!'))).toBe('UNAUTHENTICATED');
    expect(codeOf(await login(b, user.email))).toBe('RATE_LIMITED');
    expect(codeOf(await login(a, user.email))).toBe('RATE_LIMITED');
  });

  it('applies the same query limits on the socket as over HTTP', async () => {
    const user = await signUp(a, mail);
    const fifteen = `{ ${Array.from({ length: 15 }, (_, i) => `m${i}: me { user { id } }`).join(' ')} }`;
    expect((await gql(a.url, fifteen, {}, user.accessToken)).errors).toBeUndefined();
    const manyQuery = `{ ${Array.from({ length: 20 }, (_, i) => `m${i}: me { user { id } }`).join(' ')} }`;
    const overHttp = await gql(a.url, manyQuery, {}, user.accessToken);
    expect(codeOf(overHttp)).toBe('BAD_USER_INPUT');
    expect(overHttp.errors![0].message).toMatch(/Aliases limit/);
    const aliases = `subscription { ${Array.from({ length: 20 }, (_, i) => `s${i}: signalEmitted { id }`).join(' ')} }`;
    const socket = connectSocket(a.url, user.accessToken);
    const sub = socket.subscribe(aliases);
    await sub.completed;
    expect(JSON.stringify(sub.errors)).toMatch(/Aliases limit/);
    await socket.dispose();
  });
});
