import Decimal from 'decimal.js';
import { createLogger } from '../../src/config/logger';
import type { RiskLimits } from '../../src/engine/risk/risk-guard';
import { RiskMonitor } from '../../src/engine/risk/risk-monitor';
import { WITHOUT_OWNER } from '../../src/entities/owner-filter';
import { UserRiskState } from '../../src/entities/user-risk-state.entity';
import { AuditService } from '../../src/services/audit.service';
import { at, d, fill, ledgerOn, newUser } from '../ledger/ledger-kit';
import { createMigratedOrm } from '../support/test-database';

const DEFAULTS: RiskLimits = { maxDrawdown: d('0.5'), maxDailyLossPct: d('0.5'), maxWeeklyLossPct: d('0.5'), maxConsecutiveLosses: 2 };

/**
 * Risk judges the ledger's events from its journal: an event whose judgement
 * was lost between the ledger's commit and risk's transaction (a crash, the
 * database away past every retry) is judged later by the catch-up, and no
 * event is ever judged twice, whichever node or path gets to it first.
 */
describe('risk judged from the ledger journal', () => {
  let db: Awaited<ReturnType<typeof createMigratedOrm>>;
  beforeAll(async () => {
    db = await createMigratedOrm('riskjournal');
  });
  afterAll(() => db.close());

  const monitorFor = (kit: ReturnType<typeof ledgerOn>, locks: string[] = []) =>
    new RiskMonitor({
      orm: db.orm, events: kit.events, audit: new AuditService(), defaults: DEFAULTS, logger: createLogger('silent'),
      notifier: { riskLocked: (_u, reason) => void locks.push(reason), riskLifted: () => undefined },
      clock: { now: () => at(3600) }, journal: kit.ledger, retryDelaysMs: [10],
    });
  const stateOf = (userId: string) => db.orm.em.fork().findOneOrFail(UserRiskState, { user: userId }, WITHOUT_OWNER);
  /** Two losing round trips: a BUY then a SELL at a loss, twice. */
  const twoLosingCloses = (kit: ReturnType<typeof ledgerOn>, userId: string, tag: string) =>
    kit.ledger.recordFills(userId, [
      fill({ id: `${tag}1`, side: 'BUY', qty: '0.1', time: at(10) }),
      fill({ id: `${tag}2`, side: 'SELL', qty: '0.1', realizedPnl: d('-20'), time: at(20) }),
      fill({ id: `${tag}3`, side: 'BUY', qty: '0.1', time: at(30) }),
      fill({ id: `${tag}4`, side: 'SELL', qty: '0.1', realizedPnl: d('-15'), time: at(40) }),
    ]);

  it('judges the closes a crash kept from risk, once, and locks on them as it would have', async () => {
    const userId = await newUser(db.orm);
    const kit = ledgerOn(db.orm);
    // The process dies after the ledger's commits and before any judgement: nothing listens yet.
    await twoLosingCloses(kit, userId, 'crash');
    expect(kit.of('PositionClosed')).toHaveLength(2);
    await expect(stateOf(userId)).rejects.toThrow();

    // The next leader's catch-up (its grace already over for these events).
    const locks: string[] = [];
    const monitor = monitorFor(ledgerOn(db.orm), locks);
    expect(await monitor.catchUp(0)).toBeGreaterThanOrEqual(6);
    const state = await stateOf(userId);
    expect(state.consecutiveLosses).toBe(2);
    expect(state.isLocked).toBe(true);
    expect(locks).toEqual([expect.stringContaining('2 losing closes in a row')]);
    // Nothing is judged twice.
    expect(await monitor.catchUp(0)).toBe(0);
    expect((await stateOf(userId)).consecutiveLosses).toBe(2);
    expect(locks).toHaveLength(1);
  });

  it('leaves to the catch-up nothing a judgement already claimed, and a catch-up racing the judgement counts each close once', async () => {
    const userId = await newUser(db.orm);
    const kit = ledgerOn(db.orm);
    const live = monitorFor(kit);
    // Another node's catch-up, running while this node judges its own events.
    const other = monitorFor(ledgerOn(db.orm));
    const recorded = twoLosingCloses(kit, userId, 'race');
    const racing = (async () => {
      let n = 0;
      for (let i = 0; i < 20; i++) n += await other.catchUp(0);
      return n;
    })();
    await recorded;
    await racing;
    await live.whenIdle();
    await other.whenIdle();
    expect((await stateOf(userId)).consecutiveLosses).toBe(2);
    expect(await other.catchUp(0)).toBe(0);
    expect(await live.catchUp(0)).toBe(0);
  });

  it('only catches up what its own judgement has had the grace period to claim', async () => {
    const userId = await newUser(db.orm);
    const kit = ledgerOn(db.orm);
    await kit.ledger.recordFills(userId, [fill({ id: 'grace1', side: 'BUY', qty: '0.1', commission: new Decimal('3'), time: at(10) })]);
    const monitor = monitorFor(ledgerOn(db.orm));
    expect(await monitor.catchUp(60_000)).toBe(0);
    expect(await monitor.catchUp(0)).toBeGreaterThanOrEqual(1);
  });
});
