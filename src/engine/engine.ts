import type { MikroORM } from '@mikro-orm/postgresql';
import Decimal from 'decimal.js';
import type { Logger } from 'pino';
import { AdvisoryLeaderLock } from './cluster/leader-lock';
import { LeaderWork } from './cluster/leader-work';
import { Reconciler, type ReconcileSummary } from './cluster/reconciler';
import { StrategyLeader, type StrategySettings } from './cluster/strategy-leader';
import { UserStreams } from './cluster/user-streams';
import { EngineEvents } from './engine-events';
import { BinanceGatewayFactory, type BinanceEndpoints } from './exchange/binance-gateway-factory';
import { ConfigGatewayOpener } from './exchange/gateway-opener';
import { PaperGateway, PaperUserDataHub } from './exchange/paper-gateway';
import { PriceBook } from './exchange/price-book';
import { systemClock } from './execution/execution-clock';
import { DEFAULT_PLACEMENT_POLICY, OrderPlacer } from './execution/order-placement';
import { SignalExecutor, type SignalExecutorOptions } from './execution/signal-executor';
import { UserContextCache } from './execution/user-context';
import { BinanceConversionRates } from './exchange/binance-conversion-rates';
import { Ledger } from './ledger/ledger';
import type { AuditTrail, Clock, ClusterChannel, CredentialCipher, KeyHealth, RiskNotifier, SignalStore } from './ports';
import { noEngineMetrics, type EngineMetrics } from './metrics-port';
import { RiskMonitor } from './risk/risk-monitor';
import type { RiskLimits } from './risk/risk-guard';
import { SignalRouter } from './routing/signal-router';

/** Advisory-lock key of the strategy leader (any constant shared by all nodes). */
const STRATEGY_LOCK_KEY = 0x5354_5241;

/** Engine topic: a user's config, plan, status or risk changed; every node drops what it cached for them. */
export const USER_CHANGED_TOPIC = 'USER_CHANGED';

export interface EngineSettings {
  /** false: an API-only node (executes admin broadcasts, never leads). */
  leads: boolean;
  strategy: StrategySettings;
  binance: BinanceEndpoints;
  execution: SignalExecutorOptions;
  leaderCheckMs: number;
  riskDefaults: RiskLimits;
  paperStartingBalance: Decimal;
}

export interface EngineDeps {
  orm: MikroORM;
  databaseUrl: string;
  logger: Logger;
  channel: ClusterChannel;
  cipher: CredentialCipher;
  keyHealth: KeyHealth;
  signals: SignalStore;
  audit: AuditTrail;
  riskNotifier: RiskNotifier;
  /** Business time (UTC days and weeks); tests move it. */
  clock?: Clock;
  /** Counters the engine bumps where things happen (the app's Prometheus metrics). */
  metrics?: EngineMetrics;
}

/**
 * The in-process engine of one node, built from its parts: the ledger, the
 * executor and what it trades through, risk, and the cluster work. Every node
 * drops cached user state when told and can execute a manual broadcast; a
 * leading node also competes to lead the strategy (one leader per cluster),
 * which brings the user streams and the reconciliation with it.
 */
export class Engine {
  readonly events: EngineEvents;
  readonly prices = new PriceBook();
  readonly binance: BinanceGatewayFactory;
  readonly opener: ConfigGatewayOpener;
  readonly contexts: UserContextCache;
  readonly ledger: Ledger;
  readonly risk: RiskMonitor;
  readonly executor: SignalExecutor;
  readonly streams: UserStreams;
  readonly reconciler: Reconciler;
  readonly leaderWork: LeaderWork;
  strategy: StrategyLeader | null = null;
  private readonly stops: Array<() => Promise<void>> = [];

  constructor(private readonly settings: EngineSettings, private readonly deps: EngineDeps) {
    const { orm, logger } = deps;
    const engineLogger = logger.child({ module: 'engine' });
    this.events = new EngineEvents(engineLogger);
    const metrics = deps.metrics ?? noEngineMetrics;
    this.binance = new BinanceGatewayFactory(settings.binance, logger.child({ module: 'binance' }), { metrics });
    const paperHub = new PaperUserDataHub();
    this.opener = new ConfigGatewayOpener({
      cipher: deps.cipher,
      binance: this.binance,
      paper: (userId) =>
        new PaperGateway({ em: orm.em, userId, prices: this.prices, logger: logger.child({ module: 'paper' }), startingBalance: settings.paperStartingBalance, hub: paperHub }),
    });
    // One clock for a signal's whole path: the account cache, the fan-out, each user's task and the placement.
    const clock = systemClock;
    this.contexts = new UserContextCache({ opener: this.opener, logger: engineLogger, accountMaxAgeMs: 60_000, now: () => clock.now() });
    this.ledger = new Ledger({
      orm, events: this.events, audit: deps.audit, logger: engineLogger,
      conversions: new BinanceConversionRates(this.binance, settings.binance.futuresUrl, logger.child({ module: 'conversion-rates' })),
    });
    this.risk = new RiskMonitor({
      orm, events: this.events, notifier: deps.riskNotifier, audit: deps.audit, defaults: settings.riskDefaults,
      logger: logger.child({ module: 'risk' }), clock: deps.clock, metrics, journal: this.ledger,
    });
    const placer = new OrderPlacer({
      clock,
      waitForPause: () => clock.sleep(this.binance.traffic.pausedForMs),
      onEvent: (event) => engineLogger.debug({ placement: event }, 'placement'),
    }, DEFAULT_PLACEMENT_POLICY);
    this.executor = new SignalExecutor({
      orm, router: new SignalRouter(), ledger: this.ledger, contexts: this.contexts, placer, prices: this.prices, risk: this.risk,
      keyHealth: deps.keyHealth, logger: engineLogger, options: settings.execution, metrics, clock, wallClock: deps.clock,
    });
    // One account's hanging exchange holds up neither the others' streams nor the reconciliation past this.
    const userTimeLimitMs = settings.execution.userTimeoutMs;
    this.streams = new UserStreams({
      orm, contexts: this.contexts, ledger: this.ledger, keyHealth: deps.keyHealth, logger: logger.child({ module: 'user-streams' }), metrics,
      openTimeLimitMs: userTimeLimitMs,
    });
    this.reconciler = new Reconciler({
      orm, contexts: this.contexts, ledger: this.ledger, keyHealth: deps.keyHealth, streams: this.streams,
      symbol: settings.strategy.symbol, logger: logger.child({ module: 'reconciler' }), userTimeLimitMs,
      onPass: (summary) => metrics.reconciled(summary.durationMs, summary.ordersSettled + summary.tradesAdded + summary.movementsAdded),
    });
    this.leaderWork = new LeaderWork({
      reconciler: this.reconciler, streams: this.streams, logger: logger.child({ module: 'leader-work' }),
      // After the pass's own events: what no judgement claimed (a crash, an outage) is judged, once, in order.
      afterPass: () => this.risk.catchUp(),
    });
  }

  /** Whether this node leads the strategy (and with it the streams and the reconciliation). */
  get leading(): boolean {
    return this.leaderWork.isActive;
  }

  /** The scheduler's reconciliation job lands here, on the leader; elsewhere it is a no-op (null). */
  reconcileNow(): Promise<ReconcileSummary | null> {
    return this.leaderWork.reconcileNow();
  }

  async start(): Promise<void> {
    const { channel, logger } = this.deps;
    const changes = channel.subscribe<{ userId: string }>(USER_CHANGED_TOPIC);
    void (async () => {
      for await (const event of changes) {
        this.contexts.invalidate(event.userId);
        this.leaderWork.requestStreamSync();
      }
    })().catch((err) => logger.error({ err }, 'user-change listener stopped'));
    this.stops.push(async () => {
      await changes.return?.();
    });
    this.stops.push(async () => {
      await this.contexts.closeAll();
      this.binance.close();
    });

    if (!this.settings.leads) return;
    const leaderWork = this.leaderWork;
    const strategy = new StrategyLeader({
      settings: this.settings.strategy,
      orm: this.deps.orm,
      channel,
      signals: this.deps.signals,
      executor: this.executor,
      prices: this.prices,
      lock: new AdvisoryLeaderLock(this.deps.databaseUrl, STRATEGY_LOCK_KEY, logger.child({ module: 'leader' })),
      logger: logger.child({ module: 'strategy' }),
      leaderCheckMs: this.settings.leaderCheckMs,
      onLeadershipChange: (leading) => (leading ? leaderWork.start() : leaderWork.stop()),
    });
    this.strategy = strategy;
    await strategy.start();
    this.stops.push(() => strategy.stop());
  }

  async stop(): Promise<void> {
    for (const stop of this.stops.splice(0).reverse()) await stop();
  }
}
