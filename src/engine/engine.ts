import type { Services } from '../app/services';
import { Topic } from '../realtime/topics';
import { AdvisoryLeaderLock } from './leader-lock';
import { LeaderWork } from './leader-work';
import { StrategyService } from './strategy-service';
import { UserStreams } from './user-streams';

/** Advisory-lock key of the strategy leader (any constant shared by all nodes). */
const STRATEGY_LOCK_KEY = 0x5354_5241;

/**
 * The in-process engine of one node. Every node drops cached user state when
 * told (USER_CHANGED) and can execute a manual broadcast; with ENGINE_ENABLED
 * the node also competes to lead the strategy (one leader per cluster).
 */
export class Engine {
  private readonly stops: Array<() => Promise<void>> = [];
  strategy: StrategyService | null = null;
  private leaderWork: LeaderWork | null = null;

  constructor(private readonly services: Services, private readonly databaseUrl: string) {}

  async start(): Promise<void> {
    const { bus, contexts, logger, config } = this.services;
    const changes = bus.subscribe<{ userId: string }>(Topic.USER_CHANGED);
    void (async () => {
      for await (const event of changes) {
        contexts.invalidate(event.userId);
        this.leaderWork?.requestStreamSync();
      }
    })().catch((err) => logger.error({ err }, 'user-change listener stopped'));
    this.stops.push(async () => {
      await changes.return?.();
    });

    if (!config.ENGINE_ENABLED) return;
    const leaderWork = new LeaderWork({
      reconciler: this.services.reconciler,
      streams: new UserStreams({ orm: this.services.orm, contexts, store: this.services.accountStore, logger: logger.child({ module: 'user-streams' }), metrics: this.services.metrics }),
      keyReverification: this.services.keyReverification,
      logger: logger.child({ module: 'leader-work' }),
      options: { reconcileEveryMs: config.ENGINE_RECONCILE_MS, keyReverifyEveryMs: 24 * 60 * 60 * 1000 },
    });
    this.leaderWork = leaderWork;
    const strategy = new StrategyService({
      config,
      orm: this.services.orm,
      bus,
      signals: this.services.signals,
      executor: this.services.executor,
      prices: this.services.prices,
      lock: new AdvisoryLeaderLock(this.databaseUrl, STRATEGY_LOCK_KEY, logger.child({ module: 'leader' })),
      logger: logger.child({ module: 'strategy' }),
      leaderCheckMs: config.ENGINE_LEADER_CHECK_MS,
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
