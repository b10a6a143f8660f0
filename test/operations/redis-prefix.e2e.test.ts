import Redis from 'ioredis';
import { Topic } from '../../src/realtime/topics';
import { eventually } from '../support/eventually';
import { login, signInAdmin, signUp } from '../support/factories';
import { connectSocket } from '../support/graphql-client';
import { MailCapture } from '../support/mail-capture';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { startTestApp, TEST_REDIS_URL, type TestApp } from '../support/test-app';

const ADMIN = { email: 'prefix-admin@example.com', password: 'prefix password 1' };
const BROADCAST = 'mutation($i: ManualSignalInput!) { broadcastSignal(input: $i) { signal { id } } }';

describe('two deployments sharing one Redis (the machine\'s)', () => {
  const mail = new MailCapture();
  let dbX: TestDatabase;
  let x1: TestApp;
  let x2: TestApp;
  let y: TestApp;
  let redis: Redis;

  const subscribed = (t: TestApp, topic: string) =>
    eventually(`a subscriber on ${t.app.services.bus.channel(topic)}`, async () => {
      const [, n] = (await redis.pubsub('NUMSUB', t.app.services.bus.channel(topic))) as [string, number];
      return Number(n) > 0;
    });

  beforeAll(async () => {
    redis = new Redis(TEST_REDIS_URL);
    const env = { REDIS_URL: TEST_REDIS_URL, SMTP_URL: await mail.start(), ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password };
    dbX = await createTestDatabase();
    x1 = await startTestApp({ database: dbX, env });
    x2 = await startTestApp({ database: dbX, env });
    y = await startTestApp({ env });
  });
  afterAll(async () => {
    await Promise.all([x1.stop(), x2.stop(), y.stop()]);
    await dbX.drop();
    await redis.quit();
    await mail.stop();
  });

  it('gives each deployment its own prefix by default, the same on every node of one deployment', () => {
    const [p1, p2, py] = [x1, x2, y].map((t) => t.app.services.bus.channel('T'));
    expect(p1).toBe(p2);
    expect(p1).not.toBe(py);
    expect(p1).toMatch(/^btc-saas:[0-9a-f]{12}:T$/);
  });

  it('delivers a deployment\'s events to its own nodes only', async () => {
    const userX = await signUp(x1, mail);
    const userY = await signUp(y, mail);
    const onX2 = connectSocket(x2.url, userX.accessToken);
    const onY = connectSocket(y.url, userY.accessToken);
    const xSignals = onX2.subscribe<{ signalEmitted: { id: string } }>('subscription { signalEmitted { id } }');
    const ySignals = onY.subscribe<{ signalEmitted: { id: string } }>('subscription { signalEmitted { id } }');
    await subscribed(x2, Topic.SIGNAL_EMITTED);
    await subscribed(y, Topic.SIGNAL_EMITTED);
    const adminX = await signInAdmin(x1, ADMIN.email, ADMIN.password);
    const adminY = await signInAdmin(y, ADMIN.email, ADMIN.password);

    const fromX = (await x1.gql(BROADCAST, { i: { action: 'CLOSE' } }, adminX.accessToken)).data!.broadcastSignal.signal.id;
    expect((await xSignals.next()).signalEmitted.id).toBe(fromX);
    // Deployment Y's first event is its own: X's went out on another channel.
    const fromY = (await y.gql(BROADCAST, { i: { action: 'CLOSE' } }, adminY.accessToken)).data!.broadcastSignal.signal.id;
    expect((await ySignals.next()).signalEmitted.id).toBe(fromY);
    expect(ySignals.events).toHaveLength(1);
    await Promise.all([onX2.dispose(), onY.dispose()]);
  });

  it('keeps every Redis key it writes under the deployment prefix (lockout counters included)', async () => {
    const user = await signUp(x1, mail);
    for (let i = 0; i < 3; i++) await login(x1, user.email, 'not the password');
    // The lockout counts by account (email) from unknown networks and by (user, network) from known ones.
    const keys = [...(await redis.keys(`*${user.email}*`)), ...(await redis.keys(`*${user.id}*`))];
    expect(keys.length).toBeGreaterThan(0);
    const prefix = x1.app.services.bus.channel('');
    for (const key of keys) expect(key.startsWith(prefix)).toBe(true);
    // The same email on deployment Y is a different account with its own count.
    expect(await redis.keys(`${y.app.services.bus.channel('')}*${user.email}*`)).toEqual([]);
    expect(await redis.keys(`${y.app.services.bus.channel('')}*${user.id}*`)).toEqual([]);
  });

  it('takes REDIS_PREFIX when it is set', async () => {
    const z = await startTestApp({ env: { REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: 'deploy-z' } });
    try {
      expect(z.app.services.bus.channel(Topic.SIGNAL_EMITTED)).toBe('deploy-z:SIGNAL_EMITTED');
    } finally {
      await z.stop();
    }
  });
});
