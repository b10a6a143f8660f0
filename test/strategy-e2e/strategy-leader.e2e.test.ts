import Redis from 'ioredis';
import { Client } from 'pg';
import { Topic } from '../../src/realtime/topics';
import { signUp, type SignedInUser } from '../support/factories';
import { eventually } from '../support/eventually';
import { codeOf, connectSocket } from '../support/graphql-client';
import { MailCapture } from '../support/mail-capture';
import { startTestApp, TEST_REDIS_URL, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

const WITNESSES = ['breakout', 'momentum', 'trend', 'volatility'];
const SIGNAL_FIELDS = 'id source action symbol strength referencePrice createdAt votes { witness side confidence reason }';

interface SignalRow {
  id: string;
  action: string;
  symbol: string;
  interval: string;
  candle_time: Date;
  votes: Array<{ witness: string; side: string; confidence: number; reason: string }>;
}

async function waitForRedisSubscribers(channel: string): Promise<void> {
  const redis = new Redis(TEST_REDIS_URL);
  try {
    await eventually(`a subscriber on ${channel}`, async () => {
      const [, n] = (await redis.pubsub('NUMSUB', channel)) as [string, number];
      return Number(n) > 0;
    });
  } finally {
    redis.disconnect();
  }
}

describe('the shared strategy on two nodes (one database, one Redis)', () => {
  const mail = new MailCapture();
  let db: TestDatabase;
  let pg: Client;
  let nodes: TestApp[];
  let user: SignedInUser;

  const leading = (t: TestApp) => t.app.engine.strategy?.leading === true;
  const strategyRows = async (where = 'true', params: unknown[] = []) =>
    (
      await pg.query<SignalRow>(
        `select id, action, symbol, interval, candle_time, votes from signals where source = 'STRATEGY' and ${where} order by candle_time, created_at`,
        params,
      )
    ).rows;
  const repeatedCandles = async () =>
    (
      await pg.query(
        `select symbol, interval, candle_time, count(*)::int as n from signals where source = 'STRATEGY'
         group by symbol, interval, candle_time having count(*) > 1`,
      )
    ).rows;

  beforeAll(async () => {
    db = await createTestDatabase();
    const env = {
      REDIS_URL: TEST_REDIS_URL,
      SMTP_URL: await mail.start(),
      ENGINE_ENABLED: 'true',
      MARKET_FEED: 'simulated',
      // A 15m candle closes every 50 ms of wall time.
      SIMULATED_FEED_SPEED: '18000',
      ENGINE_LEADER_CHECK_MS: '200',
    };
    const first = await startTestApp({ database: db, env });
    const second = await startTestApp({ database: db, env });
    nodes = [first, second];
    pg = new Client({ connectionString: db.url });
    await pg.connect();
    user = await signUp(first, mail);
  });

  afterAll(async () => {
    for (const node of nodes ?? []) await node.stop();
    await pg?.end();
    await db?.drop();
    await mail.stop();
  });

  it('lets exactly one node lead the strategy', async () => {
    await eventually('a leader', () => nodes.some(leading));
    expect(nodes.filter(leading)).toHaveLength(1);
    expect(nodes.every((t) => t.app.engine.strategy !== null)).toBe(true);
  });

  it('stores each candle\'s signal once, with every witness\'s vote', async () => {
    const rows = await eventually('two stored signals', async () => {
      const found = await strategyRows();
      return found.length >= 2 && found;
    });
    expect(await repeatedCandles()).toEqual([]);
    for (const row of rows) {
      expect(row).toMatchObject({ symbol: 'BTCUSDT', interval: '15m' });
      expect(row.votes.map((v) => v.witness).sort()).toEqual(WITNESSES);
      for (const vote of row.votes) {
        expect(['LONG', 'SHORT', 'FLAT']).toContain(vote.side);
        expect(vote.confidence).toBeGreaterThanOrEqual(0);
        expect(vote.confidence).toBeLessThanOrEqual(1);
        expect(vote.reason).not.toBe('');
      }
    }
  });

  it('delivers signalEmitted, votes included, to a subscriber on the standby node', async () => {
    const standby = nodes.find((t) => !leading(t))!;
    const socket = connectSocket(standby.url, user.accessToken);
    try {
      const sub = socket.subscribe<{ signalEmitted: { id: string; source: string; symbol: string; votes: SignalRow['votes'] } }>(
        `subscription { signalEmitted { ${SIGNAL_FIELDS} } }`,
      );
      await waitForRedisSubscribers(standby.app.services.bus.channel(Topic.SIGNAL_EMITTED));
      const { signalEmitted } = await sub.next(20_000);
      expect(sub.errors).toEqual([]);
      expect(signalEmitted).toMatchObject({ source: 'STRATEGY', symbol: 'BTCUSDT' });
      const [stored] = await strategyRows('id = $1', [signalEmitted.id]);
      expect(signalEmitted.votes).toEqual(stored.votes.map(({ witness, side, confidence, reason }) => ({ witness, side, confidence, reason })));
      expect(signalEmitted.votes.map((v) => v.witness).sort()).toEqual(WITNESSES);
    } finally {
      await socket.dispose();
    }
  });

  it('lists the signals newest first with their votes to any signed-in user, and refuses bad input or no token', async () => {
    const node = nodes[1];
    const query = `query($first: Int) { signals(first: $first) { ${SIGNAL_FIELDS} } }`;
    const res = await node.gql<{ signals: Array<{ id: string; action: string; createdAt: string; votes: SignalRow['votes'] }> }>(
      query,
      { first: 5 },
      user.accessToken,
    );
    expect(res.errors).toBeUndefined();
    const listed = res.data!.signals;
    expect(listed.length).toBeGreaterThanOrEqual(2);
    expect(listed.length).toBeLessThanOrEqual(5);
    const times = listed.map((s) => Date.parse(s.createdAt));
    expect(times).toEqual([...times].sort((x, y) => y - x));
    const stored = new Map((await strategyRows('id = any($1)', [listed.map((s) => s.id)])).map((r) => [r.id, r]));
    for (const signal of listed) {
      expect(signal.action).toBe(stored.get(signal.id)?.action);
      expect(signal.votes.map((v) => v.witness).sort()).toEqual(WITNESSES);
    }

    expect(codeOf(await node.gql(query, { first: 5 }))).toBe('UNAUTHENTICATED');
    expect(codeOf(await node.gql(query, { first: 0 }, user.accessToken))).toBe('BAD_USER_INPUT');
    expect(codeOf(await node.gql(query, { first: 201 }, user.accessToken))).toBe('BAD_USER_INPUT');
  });

  it('hands the strategy to the standby when the leader stops, continuing after the last candle without repeating one', async () => {
    const leader = nodes.find(leading)!;
    const standby = nodes.find((t) => t !== leader)!;
    await leader.stop();
    // The stopped leader has finished writing: everything after this point is the standby's.
    const before = await strategyRows();
    const lastCandle = before[before.length - 1].candle_time;

    await eventually('the standby to take over', () => leading(standby), 10_000);
    const after = await eventually('a signal from the new leader', async () => {
      const found = await strategyRows('candle_time > $1', [lastCandle]);
      return found.length >= 1 && found;
    });
    expect(after[0].votes.map((v) => v.witness).sort()).toEqual(WITNESSES);
    // Nothing new was written at or before the old leader's last candle.
    expect((await strategyRows('candle_time <= $1', [lastCandle])).map((r) => r.id)).toEqual(before.map((r) => r.id));
    expect(await repeatedCandles()).toEqual([]);
  });
});
