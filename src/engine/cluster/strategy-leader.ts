import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { SignalSource } from '../../entities/enums';
import { Signal } from '../../entities/signal.entity';
import type { PriceBook } from '../exchange/price-book';
import type { SignalExecutor } from '../execution/signal-executor';
import { createMarketFeed, type MarketFeedKind } from '../market/feed-factory';
import type { KlineInterval } from '../market/candle';
import type { MarketFeed } from '../market/market-feed';
import type { ClusterChannel, SignalStore } from '../ports';
import { Orchestrator } from '../strategy/orchestrator';
import { StrategyRunner } from '../strategy/strategy-runner';
import { stateFromLastSignal, type StrategySignal } from '../strategy/strategy-signal';
import type { AdvisoryLeaderLock } from './leader-lock';

/** Engine topic: the leader's latest market price, for every node's paper fills and manual signals. */
export const MARKET_PRICE_TOPIC = 'MARKET_PRICE';

export interface StrategySettings {
  symbol: string;
  interval: KlineInterval;
  feed: MarketFeedKind;
  binanceRestUrl: string;
  binanceWsUrl: string;
  simulatedSpeed: number;
}

export interface PriceTick {
  symbol: string;
  price: string;
  time: number;
}

/**
 * Runs the shared strategy on exactly one node: the leader (advisory lock)
 * runs the feed and the orchestrator, stores each signal (a unique index per
 * candle is the second guard), announces it and fans it out. Standbys retry
 * the lock and take over when the leader goes away. Prices travel on the cluster channel
 * so every node's paper accounts fill at the same price.
 */
export class StrategyLeader {
  private runner: StrategyRunner | null = null;
  private feed: MarketFeed | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** The leadership check in flight: stop() waits for it, or it could start a runner after stopping. */
  private checking: Promise<void> | null = null;
  private stopped = false;
  private priceStream: (AsyncIterable<PriceTick> & AsyncIterator<PriceTick>) | null = null;
  private readonly executions = new Set<Promise<unknown>>();

  constructor(
    private readonly deps: {
      settings: StrategySettings;
      orm: MikroORM;
      channel: ClusterChannel;
      signals: SignalStore;
      executor: SignalExecutor;
      prices: PriceBook;
      lock: AdvisoryLeaderLock;
      logger: Logger;
      leaderCheckMs?: number;
      /** Cluster-singleton work (reconciler, streams, daily jobs) follows leadership. */
      onLeadershipChange?: (leading: boolean) => Promise<void>;
    },
  ) {}

  async start(): Promise<void> {
    this.listenForPrices();
    await this.check();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.checking;
    await this.stepDown();
    await this.priceStream?.return?.();
    await Promise.allSettled([...this.executions]);
  }

  get leading(): boolean {
    return this.runner !== null;
  }

  private listenForPrices(): void {
    const stream = this.deps.channel.subscribe<PriceTick>(MARKET_PRICE_TOPIC);
    this.priceStream = stream;
    void (async () => {
      for await (const tick of stream) this.deps.prices.set(tick.symbol, tick.price, new Date(tick.time));
    })().catch((err) => this.deps.logger.error({ err }, 'price listener stopped'));
  }

  private check(): Promise<void> {
    const checking = this.tick().finally(() => {
      if (this.checking === checking) this.checking = null;
    });
    this.checking = checking;
    return checking;
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const leader = await this.deps.lock.tryAcquire();
    // stop() may have run while the lock was being asked for; it releases the lock once this returns.
    if (this.stopped) return;
    if (leader && !this.runner) await this.lead().catch((err) => this.deps.logger.error({ err }, 'could not start the strategy; retrying on the next check'));
    if (!leader && this.runner) await this.stepDown();
    if (!this.stopped) {
      this.timer = setTimeout(() => void this.check(), this.deps.leaderCheckMs ?? 5000);
      this.timer.unref();
    }
  }

  private async lead(): Promise<void> {
    const { settings, logger } = this.deps;
    const last = await this.deps.orm.em
      .fork()
      .findOne(
        Signal,
        { source: SignalSource.STRATEGY, symbol: settings.symbol, interval: settings.interval },
        { orderBy: { candleTime: 'desc' } },
      );
    const orchestrator = new Orchestrator({ symbol: settings.symbol, interval: settings.interval, logger: logger.child({ module: 'orchestrator' }) });
    orchestrator.restore(stateFromLastSignal(last ? { action: last.action, candleTime: last.candleTime } : null));
    const feed = createMarketFeed(
      settings.feed,
      {
        symbol: settings.symbol,
        interval: settings.interval,
        binanceRestUrl: settings.binanceRestUrl,
        binanceWsUrl: settings.binanceWsUrl,
        simulatedSpeed: settings.simulatedSpeed,
      },
      logger.child({ module: 'market-feed' }),
    );
    feed.onPrice((price, time) => this.deps.channel.publish(MARKET_PRICE_TOPIC, { symbol: settings.symbol, price, time: Number(time) }));
    const runner = new StrategyRunner({ feed, orchestrator, emit: (signal) => this.emit(signal), logger: logger.child({ module: 'strategy' }) });
    // Leading only once the runner is up: a failed start is retried on the next check, lock still held.
    try {
      await runner.start();
    } catch (err) {
      await feed.stop().catch(() => undefined);
      throw err;
    }
    this.feed = feed;
    this.runner = runner;
    logger.info({ feed: settings.feed, symbol: settings.symbol, interval: settings.interval }, 'this node leads the strategy');
    await this.deps.onLeadershipChange?.(true);
  }

  private async stepDown(): Promise<void> {
    const runner = this.runner;
    this.runner = null;
    this.feed = null;
    if (runner) await this.deps.onLeadershipChange?.(false).catch((err) => this.deps.logger.error({ err }, 'stopping leader work failed'));
    await runner?.stop().catch((err) => this.deps.logger.error({ err }, 'stopping the strategy failed'));
    await this.deps.lock.release();
  }

  /** Resolves once the signal is durable; the fan-out then runs on its own. */
  private async emit(signal: StrategySignal): Promise<void> {
    const stored = await this.deps.signals.recordStrategySignal(this.deps.orm.em.fork(), {
      action: signal.action,
      symbol: signal.symbol,
      interval: signal.interval,
      strength: signal.strength,
      referencePrice: signal.referencePrice,
      votes: signal.votes.map((v) => ({ witness: v.witness, side: v.side, confidence: v.confidence, reason: v.reason })),
      candleTime: new Date(signal.candleTime),
      reason: signal.reason,
    });
    if (!stored) {
      this.deps.logger.warn({ candleTime: signal.candleTime, action: signal.action }, 'signal for this candle already stored by another node');
      return;
    }
    const execution = this.deps.executor.execute(stored).catch((err) => this.deps.logger.error({ err, signalId: stored.id }, 'fan-out failed'));
    this.executions.add(execution);
    void execution.finally(() => this.executions.delete(execution));
  }
}
