import type { MikroORM } from '@mikro-orm/postgresql';
import Decimal from 'decimal.js';
import { OrderPlacer } from '../../../src/engine/execution/order-placement';
import { UserContextCache } from '../../../src/engine/execution/user-context';
import { UserTask, type UserTaskDeps } from '../../../src/engine/execution/user-task';
import type { Ledger } from '../../../src/engine/ledger/ledger';
import type { ExchangeGateway } from '../../../src/engine/exchange/exchange-gateway';
import { PriceBook } from '../../../src/engine/exchange/price-book';
import { CredentialsUnreadableError, type KeyRefusalSource } from '../../../src/engine/ports';
import type { Candidate } from '../../../src/engine/routing/signal-router';
import { Exchange, SignalAction, SignalSource } from '../../../src/entities/enums';
import { Order } from '../../../src/entities/order.entity';
import { WITHOUT_OWNER } from '../../../src/entities/owner-filter';
import { Position } from '../../../src/entities/position.entity';
import { Signal } from '../../../src/entities/signal.entity';
import { UserExchangeConfig } from '../../../src/entities/user-exchange-config.entity';
import { ledgerOn, logger, newUser } from '../../ledger/ledger-kit';
import { FixedClock } from './fixed-clock';

export interface TaskWorldOptions {
  maxPositionPct?: string;
  planCap?: string;
  unreadable?: boolean;
  leverage?: number;
  maxLagMs?: number;
  /** The signal's reference price (default 50,000). */
  referencePrice?: () => Decimal.Value;
}

export interface TaskWorld {
  userId: string;
  clock: FixedClock;
  ledger: Ledger;
  refused: Array<{ reason: string; source: KeyRefusalSource }>;
  /** A signal as the router would hand it over, stamped `createdAt` (default: now on the clock). */
  signal(action: SignalAction, opts?: { createdAt?: Date }): Promise<Signal>;
  /** This user's task for `signal`, given the orders the signal already made for them (a re-run resumes those). */
  execute(signal: Signal): Promise<Awaited<ReturnType<UserTask['run']>>>;
  run(action: SignalAction, opts?: { createdAt?: Date }): Promise<Awaited<ReturnType<UserTask['run']>>>;
  position(): Promise<Position>;
}

/**
 * One user's part of a signal on a real database and a fixed clock, no server:
 * the exchange is whatever gateway the test gives (an in-memory venue, or the
 * real Binance gateway against the fake exchange).
 */
export async function taskWorld(orm: MikroORM, gateway: ExchangeGateway, opts: TaskWorldOptions = {}): Promise<TaskWorld> {
  const clock = new FixedClock();
  const userId = await newUser(orm);
  const em = orm.em.fork();
  em.create(UserExchangeConfig, {
    user: userId, exchange: Exchange.BINANCE, apiKeyEnc: 'sealed', apiSecretEnc: 'sealed', leverage: opts.leverage ?? 2,
    maxPositionPct: opts.maxPositionPct ?? '0.1', isValid: true,
  });
  await em.flush();
  const refused: TaskWorld['refused'] = [];
  const { ledger } = ledgerOn(orm);
  const opener = {
    open: async (): Promise<ExchangeGateway> => {
      if (opts.unreadable) throw new CredentialsUnreadableError();
      return gateway;
    },
  };
  const deps: UserTaskDeps = {
    ledger,
    contexts: new UserContextCache({ opener, logger, accountMaxAgeMs: 0, now: () => clock.now() }),
    placer: new OrderPlacer({ clock, random: () => 0.5 }),
    prices: new PriceBook(),
    risk: { check: async () => ({ locked: false, reason: null }) },
    keyHealth: { keyRefused: async (_u, reason, source) => void refused.push({ reason, source }) },
    clock,
    logger,
    options: { maxLagMs: opts.maxLagMs ?? 30_000, userTimeoutMs: 10_000 },
  };
  const world: TaskWorld = {
    userId,
    clock,
    ledger,
    refused,
    async signal(action, signalOpts = {}) {
      const fork = orm.em.fork();
      const signal = fork.create(Signal, {
        source: SignalSource.MANUAL, action, symbol: 'BTCUSDT', strength: '1', referencePrice: new Decimal(opts.referencePrice?.() ?? 50_000).toString(),
        createdAt: signalOpts.createdAt ?? new Date(clock.wallNow()),
      });
      await fork.flush();
      return signal;
    },
    async execute(signal) {
      const fork = orm.em.fork();
      const config = await fork.findOneOrFail(UserExchangeConfig, { user: userId }, { ...WITHOUT_OWNER, populate: ['user', 'apiKeyEnc', 'apiSecretEnc'] });
      const position = await fork.findOne(Position, { user: userId, symbol: 'BTCUSDT' }, WITHOUT_OWNER);
      const known = await fork.find(Order, { signal: signal.id }, WITHOUT_OWNER);
      const candidate: Candidate = { userId, config, position, risk: null, planCap: new Decimal(opts.planCap ?? '0.3') };
      return new UserTask(deps, signal, candidate, new AbortController().signal, known).run();
    },
    async run(action, runOpts) {
      return world.execute(await world.signal(action, runOpts));
    },
    position: () => orm.em.fork().findOneOrFail(Position, { user: userId }, WITHOUT_OWNER),
  };
  return world;
}
