import { MikroORM } from '@mikro-orm/postgresql';
import Decimal from 'decimal.js';
import { createLogger } from '../../src/config/logger';
import { ormOptions } from '../../src/db/orm-options';
import { EngineEvents } from '../../src/engine/engine-events';
import type { RiskLimits } from '../../src/engine/risk/risk-guard';
import { RiskMonitor } from '../../src/engine/risk/risk-monitor';
import { MovementKind } from '../../src/entities/account-movement.entity';
import { OWNER_FILTER, WITHOUT_OWNER } from '../../src/entities/owner-filter';
import { UserRiskState } from '../../src/entities/user-risk-state.entity';
import { AuditService } from '../../src/services/audit.service';
import { eventually } from '../support/eventually';
import { LogCapture } from '../support/log-capture';
import { createMigratedOrm } from '../support/test-database';
import { newUser } from '../ledger/ledger-kit';

const d = (v: Decimal.Value) => new Decimal(v);
const DEFAULTS: RiskLimits = { maxDrawdown: d('0.2'), maxDailyLossPct: d('0.05'), maxWeeklyLossPct: d('0.1'), maxConsecutiveLosses: 5 };
/** A fixed clock: Tuesday 2026-03-03, 10:00 UTC. */
const NOW = new Date('2026-03-03T10:00:00Z');

/** The risk monitor on a real PostgreSQL, with faults injected in the database itself. */
describe('the risk monitor when the database fails', () => {
  let db: Awaited<ReturnType<typeof createMigratedOrm>>;
  beforeAll(async () => {
    db = await createMigratedOrm('riskmon');
    // Fails the next `failures` judgements of the planned user (every judgement first upserts the user's row).
    await db.orm.em.fork().getConnection().execute(`
      create table risk_fault_plan (user_id uuid primary key, failures int not null);
      create sequence risk_fault_seq;
      create function risk_fault() returns trigger language plpgsql as $$
      declare planned int;
      begin
        select failures into planned from risk_fault_plan where user_id = new.user_id;
        if planned is not null then
          if nextval('risk_fault_seq') <= planned then
            raise exception 'injected fault: the database is restarting';
          end if;
        end if;
        return new;
      end $$;
      create trigger risk_fault before insert on user_risk_states for each row execute function risk_fault();
    `);
  });
  afterAll(() => db.close());

  const failNext = async (userId: string, failures: number) => {
    const em = db.orm.em.fork();
    await em.execute('alter sequence risk_fault_seq restart');
    await em.execute('insert into risk_fault_plan (user_id, failures) values (?, ?) on conflict (user_id) do update set failures = excluded.failures', [userId, failures]);
  };

  function monitorOn(orm: MikroORM, opts: { defaults?: RiskLimits; retryDelaysMs?: number[] } = {}) {
    const log = new LogCapture();
    const events = new EngineEvents(createLogger('silent'));
    const locks: string[] = [];
    const monitor = new RiskMonitor({
      orm, events, audit: new AuditService(), defaults: opts.defaults ?? DEFAULTS, logger: createLogger('warn', log),
      notifier: { riskLocked: (_u, reason) => void locks.push(reason), riskLifted: () => undefined },
      clock: { now: () => NOW }, retryDelaysMs: opts.retryDelaysMs ?? [20, 20],
    });
    return { monitor, events, log, locks };
  }
  const ownEm = (userId: string) => {
    const em = db.orm.em.fork();
    em.setFilterParams(OWNER_FILTER, { userId });
    return em;
  };
  const stateOf = (userId: string) => db.orm.em.fork().findOneOrFail(UserRiskState, { user: userId }, WITHOUT_OWNER);
  const balance = (userId: string, equity: string) => ({
    type: 'BalanceChanged' as const, userId, equity: d(equity), walletBalance: d(equity), unrealizedPnl: d(0), at: NOW, source: 'STREAM' as const,
  });
  const deposit = (userId: string, amount: string) => ({
    type: 'MovementRecorded' as const, userId, kind: MovementKind.DEPOSIT, rawReason: 'DEPOSIT', asset: 'USDT', amount: d(amount), usdtValue: d(amount),
    symbol: null, occurredAt: NOW,
  });

  it('an OPEN fails closed when the risk state cannot be read: the user is refused with the reason, not let through', async () => {
    const userId = await newUser(db.orm);
    const down = await MikroORM.init(ormOptions(db.db.url));
    await down.close(true);
    const { monitor, log } = monitorOn(down, { retryDelaysMs: [] });
    expect(await monitor.check(userId, null, d('10000'))).toEqual({
      locked: true, unjudged: true, reason: 'risk state could not be checked: a temporary error; this OPEN was not placed',
    });
    expect(log.text()).toContain('risk judgement before an OPEN failed');
  });

  it('a ledger event whose judgement fails is tried again and applied once, in order; an OPEN meanwhile is refused, even from a quiet cached row', async () => {
    const userId = await newUser(db.orm);
    const { monitor, events, log, locks } = monitorOn(db.orm, { retryDelaysMs: [300, 300] });
    events.emit(balance(userId, '10000'));
    await monitor.whenIdle();
    const cached = await stateOf(userId);
    expect(await monitor.check(userId, cached, d('10000'))).toEqual({ locked: false, reason: null });

    await failNext(userId, 2);
    // A deposit lost here would make the 15,000 below a profit and the 14,000 after it no loss at all.
    events.emit(deposit(userId, '5000'));
    events.emit(balance(userId, '15000'));
    events.emit(balance(userId, '14000'));
    await eventually('the first failure', () => log.text().includes('trying again'));
    expect(await monitor.check(userId, cached, d('10000'))).toEqual({
      locked: true, unjudged: true, reason: 'risk state could not be checked: an earlier account event is still waiting to be judged',
    });

    await monitor.whenIdle();
    const state = await stateOf(userId);
    expect([state.equityHighWater, state.dayStartEquity, state.lastEquity, state.dailyLoss].map((v) => d(v!).toFixed()))
      .toEqual(['15000', '15000', '14000', '1000']);
    expect(locks).toEqual(['daily loss 1,000.00 USDT = 6.67 % of start-of-day equity 15,000.00, limit 5 %']);
    expect(monitor.droppedEvents).toBe(0);
    expect(log.lines.filter((l) => l.includes('trying again'))).toHaveLength(2);
  });

  it('an event that still fails after every retry is dropped, logged with what it carried and counted; the events after it go on', async () => {
    const userId = await newUser(db.orm);
    const { monitor, events, log } = monitorOn(db.orm, { retryDelaysMs: [20, 20] });
    events.emit(balance(userId, '10000'));
    await monitor.whenIdle();
    await failNext(userId, 3);
    events.emit(deposit(userId, '5000'));
    events.emit(balance(userId, '9800'));
    await monitor.whenIdle();
    expect(monitor.droppedEvents).toBe(1);
    const dropped = log.lines.map((l) => JSON.parse(l)).find((l) => l.msg.includes('the event is dropped'));
    expect(dropped).toMatchObject({ level: 50, userId, change: { capital: '5000 at 2026-03-03T10:00:00.000Z' }, dropped: 1 });
    expect(d((await stateOf(userId)).lastEquity!).toFixed()).toBe('9800');
  });

  it('a platform default lowered after a user stored their own limit binds them: the stricter of the two is in force and shown', async () => {
    const userId = await newUser(db.orm);
    // Set when the platform allowed 5 % a day and 5 losing closes: tighter then.
    await monitorOn(db.orm).monitor.setLimits(userId, { maxDailyLossPct: d('0.04'), maxConsecutiveLosses: 4 }, { ip: null, detail: 'test' });
    // The operator lowers the defaults to 3 % and 3.
    const lowered = { ...DEFAULTS, maxDailyLossPct: d('0.03'), maxConsecutiveLosses: 3 };
    const { monitor, events, locks } = monitorOn(db.orm, { defaults: lowered });
    const { limits } = await monitor.stateOf(ownEm(userId), userId);
    expect([limits.maxDailyLossPct.toFixed(), limits.maxConsecutiveLosses]).toEqual(['0.03', 3]);
    // A limit the user keeps tighter than the default stays theirs.
    await monitor.setLimits(userId, { maxDrawdown: d('0.1') }, { ip: null, detail: 'test' });
    expect((await monitor.stateOf(ownEm(userId), userId)).limits.maxDrawdown.toFixed()).toBe('0.1');

    events.emit(balance(userId, '10000'));
    events.emit(balance(userId, '9650'));
    await monitor.whenIdle();
    expect(locks).toEqual(['daily loss 350.00 USDT = 3.50 % of start-of-day equity 10,000.00, limit 3 %']);
  });
});
