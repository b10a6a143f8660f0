import { Writable } from 'node:stream';
import { hostname } from 'node:os';
import { createLogger } from '../../src/config/logger';
import { eventually } from '../support/eventually';
import { signInAdmin, signUp, uniqueEmail, PASSWORD, type SignedInUser } from '../support/factories';
import { connectSocket } from '../support/graphql-client';
import { MailCapture } from '../support/mail-capture';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { startTestApp, TEST_REDIS_URL, type TestApp } from '../support/test-app';

const ADMIN = { email: 'metrics-admin@example.com', password: 'metrics password 1' };
const BROADCAST = 'mutation($a: SignalAction!) { broadcastSignal(input: { action: $a }) { placed failed } }';
const PAPER = 'mutation { setExchangeConfig(input: { exchange: PAPER, leverage: 5, maxPositionPct: 0.05 }) { isValid } }';

const scrape = async (t: TestApp, token?: string) =>
  fetch(t.url.replace('/graphql', '/metrics'), token ? { headers: { authorization: `Bearer ${token}` } } : {});
/** The value of one sample (`name` with its labels, exactly as printed), or undefined. */
const sample = async (t: TestApp, series: string) => {
  const line = (await (await scrape(t)).text()).split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};
const jsonLines = (t: TestApp) => t.logs.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
/** Mails are jobs on the cluster's queue: either node may deliver one, carrying the request's ids. */
const clusterLines = (...nodes: TestApp[]) => nodes.flatMap(jsonLines);

describe('observability of two nodes (one leads the engine)', () => {
  const mail = new MailCapture();
  let db: TestDatabase;
  let a: TestApp;
  let b: TestApp;
  let admin: SignedInUser;
  let users: SignedInUser[];

  beforeAll(async () => {
    db = await createTestDatabase();
    const env = { REDIS_URL: TEST_REDIS_URL, SMTP_URL: await mail.start(), ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password, RISK_MAX_DAILY_LOSS_PCT: '0.02' };
    a = await startTestApp({ database: db, env: { ...env, ENGINE_ENABLED: 'true', MARKET_FEED: 'simulated', SIMULATED_FEED_SPEED: '0.001', ENGINE_LEADER_CHECK_MS: '200' } });
    b = await startTestApp({ database: db, env });
    admin = await signInAdmin(a, ADMIN.email, ADMIN.password);
    users = [await signUp(a, mail), await signUp(a, mail)];
    for (const u of users) expect((await a.gql(PAPER, {}, u.accessToken)).data!.setExchangeConfig.isValid).toBe(true);
  });
  afterAll(async () => {
    await a.stop();
    await b.stop();
    await db.drop();
    await mail.stop();
  });

  it('reads engine state at scrape time: leadership, Binance weight and its limit, feed staleness, publish failures', async () => {
    await eventually('node A to lead', async () => (await sample(a, 'strategy_leader')) === 1);
    expect(await sample(b, 'strategy_leader')).toBe(0);
    expect(await sample(a, 'binance_request_weight_limit')).toBe(2000);
    expect(await sample(a, 'binance_request_weight_used')).toBe(0);
    expect(await sample(a, 'binance_pause_remaining_seconds')).toBe(0);
    expect(await sample(a, 'bus_publish_failures_total')).toBe(0);
    a.app.services.prices.set('BTCUSDT', '50000');
    expect(await sample(a, 'market_feed_staleness_seconds')).toBeLessThan(60);
  });

  it('counts each fan-out once in the cluster, on the node that executed it', async () => {
    a.app.services.prices.set('BTCUSDT', '50000');
    expect((await a.gql(BROADCAST, { a: 'OPEN_LONG' }, admin.accessToken)).data!.broadcastSignal).toEqual({ placed: 2, failed: 0 });
    expect(await sample(a, 'user_executions_total{status="PLACED"}')).toBe(2);
    expect(await sample(a, 'signal_fanout_seconds_count')).toBe(1);
    // Node B heard the report on the bus (its admins' subscriptions) but did not count it again.
    expect(await sample(b, 'user_executions_total{status="PLACED"}')).toBeUndefined();
    expect(await sample(b, 'signal_fanout_seconds_count')).toBe(0);
  });

  it('counts Binance pauses, risk locks, reconciliation runs and open user streams', async () => {
    a.app.services.binance.traffic.pause(30_000, 'ip_banned');
    expect(await sample(a, 'binance_pauses_total{kind="ip_banned"}')).toBe(1);
    expect(await sample(a, 'binance_pause_remaining_seconds')).toBeGreaterThan(0);

    // A 20 % fall on 5x: each user loses far more than the 2 % daily limit, and their guard locks them.
    a.app.services.prices.set('BTCUSDT', '40000');
    expect((await a.gql(BROADCAST, { a: 'CLOSE' }, admin.accessToken)).data!.broadcastSignal).toEqual({ placed: 2, failed: 0 });
    await a.app.services.reconciler.reconcileAll();
    await eventually('both users to be locked', async () => (await sample(a, 'risk_locks_total{kind="DAILY_LOSS"}')) === 2);
    expect(await sample(a, 'reconciliation_duration_seconds_count')).toBeGreaterThanOrEqual(1);
    // What the divergences count is proven where a pass has something to correct (test/ledger/ledger.e2e.test.ts).
    expect(await sample(a, 'reconciliation_divergences_total')).toBeDefined();
    await eventually('the leader to hold both paper streams', async () => (await sample(a, 'user_streams_connected')) === 2);
    expect(await sample(b, 'user_streams_connected')).toBe(0);
  });

  it('logs hostname, pid and one request id per HTTP request, the same id on every line the request wrote', async () => {
    const email = uniqueEmail('log');
    const res = await fetch(a.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'mutation($i: RegisterInput!) { register(input: $i) { id } }', variables: { i: { email, password: PASSWORD } } }),
    });
    const reqId = res.headers.get('x-request-id')!;
    expect(reqId).toMatch(/^[0-9a-f-]{36}$/);
    await mail.waitFor(email, /token/);
    await eventually('the mail line', () => clusterLines(a, b).some((l) => l.msg === 'mail sent' && l.to === email));
    const mine = clusterLines(a, b).filter((l) => l.reqId === reqId);
    expect(mine.map((l) => l.msg)).toEqual(expect.arrayContaining(['mail sent', 'request']));
    for (const line of mine) expect(line).toMatchObject({ hostname: hostname(), pid: process.pid });
  });

  it('gives every socket operation its own request id', async () => {
    const user = await signUp(a, mail);
    const email = uniqueEmail('ws-log');
    const socket = connectSocket(a.url, user.accessToken);
    const result = await socket.client
      .iterate({ query: 'mutation($i: RegisterInput!) { register(input: $i) { id } }', variables: { i: { email, password: PASSWORD } } })
      .next();
    expect(result.value).toMatchObject({ data: { register: { id: expect.any(String) } } });
    await eventually('the mail line', () => clusterLines(a, b).some((l) => l.msg === 'mail sent' && l.to === email));
    const line = clusterLines(a, b).find((l) => l.msg === 'mail sent' && l.to === email)!;
    expect(line.reqId).toMatch(/^[0-9a-f-]{36}$/);
    expect(line.connId).toMatch(/^[0-9a-f-]{36}$/);
    await socket.dispose();
  });
});

describe('/metrics in production', () => {
  const TOKEN = 'a-metrics-token-long-enough';
  const mail = new MailCapture();
  let guarded: TestApp;
  let unset: TestApp;

  beforeAll(async () => {
    const smtp = await mail.start();
    guarded = await startTestApp({ env: { NODE_ENV: 'production', SMTP_URL: smtp, METRICS_TOKEN: TOKEN } });
    unset = await startTestApp({ env: { NODE_ENV: 'production', SMTP_URL: smtp } });
  });
  afterAll(async () => {
    await guarded.stop();
    await unset.stop();
    await mail.stop();
  });

  it('needs METRICS_TOKEN as a bearer token, and is off when none is set', async () => {
    expect((await scrape(guarded)).status).toBe(401);
    expect((await scrape(guarded, 'a-metrics-token-long-enougX')).status).toBe(401);
    const ok = await scrape(guarded, TOKEN);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('strategy_leader 0');
    expect((await scrape(unset)).status).toBe(404);
    expect((await scrape(unset, TOKEN)).status).toBe(404);
  });
});

describe('development logs', () => {
  it('are readable lines with pino-pretty (a development dependency), JSON otherwise', () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
    createLogger('info', sink, { pretty: true }).info({ userId: 'u1' }, 'hello operator');
    expect(lines.join('')).toMatch(/INFO.*hello operator/);
    expect(() => JSON.parse(lines.join(''))).toThrow();
    const json: string[] = [];
    createLogger('info', new Writable({ write: (chunk, _enc, done) => (json.push(String(chunk)), done()) })).info('plain');
    expect(JSON.parse(json[0])).toMatchObject({ msg: 'plain', hostname: hostname(), pid: process.pid });
  });
});
