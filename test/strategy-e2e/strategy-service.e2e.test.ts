import { Client } from 'pg';
import { SignalAction } from '../../src/entities/enums';
import { AdvisoryLeaderLock } from '../../src/engine/cluster/leader-lock';
import { StrategyLeader } from '../../src/engine/cluster/strategy-leader';
import type { StrategySignalInput } from '../../src/services/signal.service';
import { eventually } from '../support/eventually';
import { startTestApp, type TestApp } from '../support/test-app';

/** Not the engine's key: these tests contend for a lock of their own. */
const LOCK_KEY = 0x7465_7374;

const vote = { witness: 'trend', side: 'SHORT', confidence: 1, reason: 'EMA12 below EMA26' } as StrategySignalInput['votes'][number];

describe('StrategyLeader and SignalService on a real database', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { MARKET_FEED: 'simulated', SIMULATED_FEED_SPEED: '18000' } });
  });
  afterAll(() => t.stop());

  const lock = () => new AdvisoryLeaderLock(t.app.services.config.DATABASE_URL!, LOCK_KEY, t.app.services.logger);
  const strategy = () => {
    const { config, orm, bus, signals, executor, prices, logger } = t.app.services;
    const settings = {
      symbol: config.STRATEGY_SYMBOL, interval: config.STRATEGY_INTERVAL, feed: config.marketFeed, binanceRestUrl: config.BINANCE_FUTURES_URL,
      binanceWsUrl: config.BINANCE_FUTURES_WS_URL, simulatedSpeed: config.SIMULATED_FEED_SPEED,
    };
    return new StrategyLeader({ settings, orm, channel: bus, signals, executor, prices, lock: lock(), logger, leaderCheckMs: 100 });
  };

  it('stopped while it is still acquiring the lock, it never starts leading and leaves the lock free', async () => {
    const service = strategy();
    const starting = service.start();
    await service.stop();
    await starting;
    expect(service.leading).toBe(false);
    const contender = lock();
    try {
      expect(await contender.tryAcquire()).toBe(true);
    } finally {
      await contender.release();
    }
  });

  it('a stopped leader frees the lock for the next one', async () => {
    const first = strategy();
    await first.start();
    expect(first.leading).toBe(true);
    const second = strategy();
    await second.start();
    expect(second.leading).toBe(false);
    await first.stop();
    expect(first.leading).toBe(false);
    const contender = lock();
    try {
      expect(await contender.tryAcquire()).toBe(true);
    } finally {
      await contender.release();
      await second.stop();
    }
  });

  it('a lock holder whose database session dies loses the lock to a contender and knows it', async () => {
    const holder = lock();
    const contender = lock();
    const admin = new Client({ connectionString: t.app.services.config.DATABASE_URL });
    await admin.connect();
    try {
      expect(await holder.tryAcquire()).toBe(true);
      expect(await contender.tryAcquire()).toBe(false);
      const killed = await admin.query(
        `select pg_terminate_backend(pid) as ok from pg_locks
         where locktype = 'advisory' and objid = $1 and granted and database = (select oid from pg_database where datname = current_database())`,
        [LOCK_KEY],
      );
      expect(killed.rows).toEqual([{ ok: true }]);
      // The backend exits (and frees the lock) shortly after the signal, not at once.
      await eventually('the lock to be free', () => contender.tryAcquire(), 5000);
      expect(await holder.tryAcquire()).toBe(false);
      expect(holder.isLeader).toBe(false);
    } finally {
      await admin.end();
      await holder.release();
      await contender.release();
    }
  });

  it('stores a candle\'s signal once per action: the same signal again is a no-op, a flip stores CLOSE and OPEN', async () => {
    const { orm, signals } = t.app.services;
    const candleTime = new Date(Date.UTC(2024, 0, 1, 5));
    const input = (action: SignalAction): StrategySignalInput => ({
      action,
      symbol: 'BTCUSDT',
      interval: '1h',
      strength: '0.75',
      referencePrice: '64000.0',
      votes: [vote],
      candleTime,
      reason: 'test',
    });
    const stored = await signals.recordStrategySignal(orm.em.fork(), input(SignalAction.CLOSE));
    expect(stored).toMatchObject({ action: SignalAction.CLOSE, votes: [vote] });
    // Another node already wrote this very signal: nothing to do, nothing to announce.
    expect(await signals.recordStrategySignal(orm.em.fork(), input(SignalAction.CLOSE))).toBeNull();
    // The OPEN of a flip on the same candle is a signal of its own, stored after the CLOSE.
    expect(await signals.recordStrategySignal(orm.em.fork(), input(SignalAction.OPEN_SHORT))).toMatchObject({ action: SignalAction.OPEN_SHORT });
    expect(await signals.recordStrategySignal(orm.em.fork(), input(SignalAction.OPEN_SHORT))).toBeNull();
    const rows = await orm.em.fork().getConnection().execute(`select action from signals where interval = '1h' and candle_time = ? order by created_at`, [candleTime]);
    expect(rows).toEqual([{ action: 'CLOSE' }, { action: 'OPEN_SHORT' }]);
  });
});
