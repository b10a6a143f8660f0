import type { MikroORM } from '@mikro-orm/postgresql';
import Decimal from 'decimal.js';
import { systemClock } from '../../src/engine/execution/execution-clock';
import { OrderPlacer } from '../../src/engine/execution/order-placement';
import { UserContextCache } from '../../src/engine/execution/user-context';
import { UserTask, type UserTaskDeps } from '../../src/engine/execution/user-task';
import type { ExchangeGateway } from '../../src/engine/exchange/exchange-gateway';
import { PriceBook } from '../../src/engine/exchange/price-book';
import { CredentialsUnreadableError, type KeyRefusalSource } from '../../src/engine/ports';
import type { Candidate } from '../../src/engine/routing/signal-router';
import { Exchange, ExecutionStatus, SignalAction, SignalSource } from '../../src/entities/enums';
import { Order } from '../../src/entities/order.entity';
import { WITHOUT_OWNER } from '../../src/entities/owner-filter';
import { Position } from '../../src/entities/position.entity';
import { Signal } from '../../src/entities/signal.entity';
import { UserExchangeConfig } from '../../src/entities/user-exchange-config.entity';
import { createMigratedOrm } from '../support/test-database';
import { ledgerOn, logger, newUser } from '../ledger/ledger-kit';
import { ScriptedVenue } from './support/scripted-venue';

/** One user's part of a signal, on a real database and an in-memory venue, no server. */
describe('the per-user task', () => {
  let db: Awaited<ReturnType<typeof createMigratedOrm>>;
  beforeAll(async () => {
    db = await createMigratedOrm('usertask');
  });
  afterAll(() => db.close());

  interface World {
    userId: string;
    venue: ScriptedVenue;
    refused: Array<{ reason: string; source: KeyRefusalSource }>;
    run(action: SignalAction, opts?: { createdAt?: Date }): Promise<Awaited<ReturnType<UserTask['run']>>>;
  }

  async function world(opts: { maxPositionPct?: string; planCap?: string; unreadable?: boolean } = {}): Promise<World> {
    const orm: MikroORM = db.orm;
    const userId = await newUser(orm);
    const em = orm.em.fork();
    em.create(UserExchangeConfig, {
      user: userId, exchange: Exchange.BINANCE, apiKeyEnc: 'sealed', apiSecretEnc: 'sealed', leverage: 2, maxPositionPct: opts.maxPositionPct ?? '0.1', isValid: true,
    });
    await em.flush();
    const venue = new ScriptedVenue();
    const refused: World['refused'] = [];
    const { ledger } = ledgerOn(orm);
    const opener = {
      open: async (): Promise<ExchangeGateway> => {
        if (opts.unreadable) throw new CredentialsUnreadableError();
        return venue;
      },
    };
    const deps: UserTaskDeps = {
      ledger,
      contexts: new UserContextCache({ opener, logger, accountMaxAgeMs: 0 }),
      placer: new OrderPlacer({ clock: systemClock }),
      prices: new PriceBook(),
      risk: { check: async () => ({ locked: false, reason: null }) },
      keyHealth: { keyRefused: async (_u, reason, source) => void refused.push({ reason, source }) },
      clock: systemClock,
      logger,
      options: { maxLagMs: 30_000, userTimeoutMs: 10_000 },
    };
    return {
      userId,
      venue,
      refused,
      async run(action, runOpts = {}) {
        const fork = orm.em.fork();
        const signal = fork.create(Signal, {
          source: SignalSource.MANUAL, action, symbol: 'BTCUSDT', strength: '1', referencePrice: venue.price.toString(), createdAt: runOpts.createdAt ?? new Date(),
        });
        await fork.flush();
        const config = await fork.findOneOrFail(UserExchangeConfig, { user: userId }, { ...WITHOUT_OWNER, populate: ['user', 'apiKeyEnc', 'apiSecretEnc'] });
        const position = await fork.findOne(Position, { user: userId, symbol: 'BTCUSDT' }, WITHOUT_OWNER);
        const known = await fork.find(Order, { signal: signal.id }, WITHOUT_OWNER);
        const candidate: Candidate = { userId, config, position, risk: null, planCap: new Decimal(opts.planCap ?? '0.3') };
        return new UserTask(deps, signal, candidate, new AbortController().signal, known).run();
      },
    };
  }

  const positionOf = async (userId: string) => db.orm.em.fork().findOneOrFail(Position, { user: userId }, WITHOUT_OWNER);

  it('opens from flat: equity × cap × leverage at the reference price, the position the strategy\'s', async () => {
    const w = await world();
    const outcome = await w.run(SignalAction.OPEN_LONG);
    // 10,000 × 10 % × 2 / 50,000 = 0.04 BTC.
    expect(outcome).toMatchObject({ status: ExecutionStatus.PLACED, fillPrice: '50000', slippage: '0' });
    expect(w.venue.orders.map((o) => [o.side, o.quantity.toFixed(), o.reduceOnly])).toEqual([['BUY', '0.04', false]]);
    expect(await positionOf(w.userId)).toMatchObject({ side: 'LONG', quantity: '0.0400000000', openedByStrategy: true, closePending: false });
    expect((await w.run(SignalAction.OPEN_LONG)).reason).toBe('already long 0.0400000000 BTCUSDT');
  });

  it("sizes by the plan's cap at order time, whatever the stored setting", async () => {
    const w = await world({ maxPositionPct: '0.3', planCap: '0.05' });
    await w.run(SignalAction.OPEN_SHORT);
    // 10,000 × 5 % (the plan's cap, not the stored 30 %) × 2 / 50,000 = 0.02 BTC.
    expect(w.venue.orders.map((o) => [o.side, o.quantity.toFixed()])).toEqual([['SELL', '0.02']]);
  });

  it('a close that fills only partly leaves the rest tracked as the strategy\'s; the next CLOSE reaches it', async () => {
    const w = await world();
    await w.run(SignalAction.OPEN_LONG);
    w.venue.fillLimit = new Decimal('0.015');
    const close = await w.run(SignalAction.CLOSE);
    expect(close).toMatchObject({ status: ExecutionStatus.PLACED, reason: 'closed 0.015 of 0.04 BTCUSDT; 0.025 stays open until the next signal' });
    expect(await positionOf(w.userId)).toMatchObject({ side: 'LONG', quantity: '0.0250000000', openedByStrategy: true, closePending: true });
    w.venue.fillLimit = null;
    expect(await w.run(SignalAction.CLOSE)).toMatchObject({ status: ExecutionStatus.PLACED, reason: 'position closed' });
    expect(await positionOf(w.userId)).toMatchObject({ side: 'FLAT', openedByStrategy: false, closePending: false });
    expect(w.venue.position.isZero()).toBe(true);
  });

  it('an OPEN after a partial close first closes what the close left, then opens from flat', async () => {
    const w = await world();
    await w.run(SignalAction.OPEN_LONG);
    w.venue.fillLimit = new Decimal('0.01');
    await w.run(SignalAction.CLOSE);
    w.venue.fillLimit = null;
    const open = await w.run(SignalAction.OPEN_SHORT);
    expect(open.status).toBe(ExecutionStatus.PLACED);
    const [, , exit, opened] = w.venue.orders;
    expect([exit.side, exit.quantity.toFixed(), exit.reduceOnly]).toEqual(['SELL', '0.03', true]);
    expect([opened.side, opened.quantity.toFixed(), opened.reduceOnly]).toEqual(['SELL', '0.04', false]);
    expect(w.venue.position.toFixed()).toBe('-0.04');
    expect(await positionOf(w.userId)).toMatchObject({ side: 'SHORT', quantity: '0.0400000000', openedByStrategy: true, closePending: false });
  });

  it('a position above the largest market order closes that much now and the rest at the next signal', async () => {
    const w = await world();
    w.venue.position = new Decimal('150');
    w.venue.filters = { ...w.venue.filters, maxQty: new Decimal('120') };
    const close = await w.run(SignalAction.CLOSE);
    expect(w.venue.orders.map((o) => o.quantity.toFixed())).toEqual(['120']);
    expect(close.reason).toBe('closed 120 of 150 BTCUSDT; 30 stays open until the next signal');
    expect(await positionOf(w.userId)).toMatchObject({ side: 'LONG', quantity: '30.0000000000', closePending: true });
  });

  it('a user whose stored key cannot be decrypted gets FAILED with a clear reason, and the key is switched off', async () => {
    const w = await world({ unreadable: true });
    const outcome = await w.run(SignalAction.OPEN_LONG);
    expect(outcome).toMatchObject({ status: ExecutionStatus.FAILED, reason: 'the stored API key could not be read; set the API key and secret again' });
    expect(w.refused).toEqual([{ reason: 'the stored API key could not be read; set the API key and secret again', source: 'FAN_OUT' }]);
    expect(w.venue.orders).toHaveLength(0);
  });

  it('an OPEN older than the allowed lag is not placed; a CLOSE always is', async () => {
    const w = await world();
    const stale = await w.run(SignalAction.OPEN_LONG, { createdAt: new Date(Date.now() - 60_000) });
    expect(stale.status).toBe(ExecutionStatus.SKIPPED);
    expect(stale.reason).toMatch(/ms old, over the 30000 ms limit: not placed late$/);
    w.venue.position = new Decimal('0.01');
    expect((await w.run(SignalAction.CLOSE, { createdAt: new Date(Date.now() - 60_000) })).status).toBe(ExecutionStatus.PLACED);
  });
});
