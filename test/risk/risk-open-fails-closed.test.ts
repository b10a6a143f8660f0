import { MikroORM } from '@mikro-orm/postgresql';
import Decimal from 'decimal.js';
import { ormOptions } from '../../src/db/orm-options';
import { EngineEvents } from '../../src/engine/engine-events';
import { systemClock } from '../../src/engine/execution/execution-clock';
import { OrderPlacer } from '../../src/engine/execution/order-placement';
import { UserContextCache } from '../../src/engine/execution/user-context';
import { UserTask, type UserTaskDeps } from '../../src/engine/execution/user-task';
import { PriceBook } from '../../src/engine/exchange/price-book';
import { RiskMonitor } from '../../src/engine/risk/risk-monitor';
import { Exchange, ExecutionStatus, SignalAction, SignalSource } from '../../src/entities/enums';
import { WITHOUT_OWNER } from '../../src/entities/owner-filter';
import { Signal } from '../../src/entities/signal.entity';
import { UserExchangeConfig } from '../../src/entities/user-exchange-config.entity';
import { AuditService } from '../../src/services/audit.service';
import { ScriptedVenue } from '../execution/support/scripted-venue';
import { ledgerOn, logger, newUser } from '../ledger/ledger-kit';
import { createMigratedOrm } from '../support/test-database';

const d = (v: Decimal.Value) => new Decimal(v);

/**
 * A user's task against a risk monitor whose database is unreachable: their
 * risk state cannot be judged, so an OPEN is refused with the reason (never
 * sized and sent unchecked), while a CLOSE still reaches the position.
 */
describe('an OPEN when the risk state cannot be judged', () => {
  let db: Awaited<ReturnType<typeof createMigratedOrm>>;
  let down: MikroORM;
  beforeAll(async () => {
    db = await createMigratedOrm('riskclosed');
    down = await MikroORM.init(ormOptions(db.db.url));
    await down.close(true);
  });
  afterAll(() => db.close());

  it('is skipped with the reason and places nothing; a CLOSE still closes the position', async () => {
    const userId = await newUser(db.orm);
    const em = db.orm.em.fork();
    em.create(UserExchangeConfig, {
      user: userId, exchange: Exchange.BINANCE, apiKeyEnc: 'sealed', apiSecretEnc: 'sealed', leverage: 2, maxPositionPct: '0.1', isValid: true,
    });
    await em.flush();
    const venue = new ScriptedVenue();
    const risk = new RiskMonitor({
      orm: down, events: new EngineEvents(logger), notifier: { riskLocked: () => undefined, riskLifted: () => undefined }, audit: new AuditService(),
      defaults: { maxDrawdown: d('0.2'), maxDailyLossPct: d('0.05'), maxWeeklyLossPct: d('0.1'), maxConsecutiveLosses: 5 },
      logger, retryDelaysMs: [],
    });
    const deps: UserTaskDeps = {
      ledger: ledgerOn(db.orm).ledger,
      contexts: new UserContextCache({ opener: { open: async () => venue }, logger, accountMaxAgeMs: 0 }),
      placer: new OrderPlacer({ clock: systemClock }),
      prices: new PriceBook(),
      risk,
      keyHealth: { keyRefused: async () => undefined },
      clock: systemClock,
      logger,
      options: { maxLagMs: 30_000, userTimeoutMs: 10_000 },
    };
    const run = async (action: SignalAction) => {
      const fork = db.orm.em.fork();
      const signal = fork.create(Signal, { source: SignalSource.MANUAL, action, symbol: 'BTCUSDT', strength: '1', referencePrice: '50000', createdAt: new Date() });
      await fork.flush();
      const config = await fork.findOneOrFail(UserExchangeConfig, { user: userId }, { ...WITHOUT_OWNER, populate: ['user', 'apiKeyEnc', 'apiSecretEnc'] });
      return new UserTask(deps, signal, { userId, config, position: null, risk: null, planCap: d('0.3') }, new AbortController().signal, []).run();
    };

    expect(await run(SignalAction.OPEN_LONG)).toMatchObject({
      status: ExecutionStatus.SKIPPED, reason: 'risk state could not be checked: a temporary error; this OPEN was not placed',
    });
    expect(venue.orders).toHaveLength(0);

    venue.position = d('0.04');
    expect(await run(SignalAction.CLOSE)).toMatchObject({ status: ExecutionStatus.PLACED });
    expect(venue.orders.map((o) => [o.side, o.quantity.toFixed(), o.reduceOnly])).toEqual([['SELL', '0.04', true]]);
  });
});
