import type { Logger } from 'pino';
import type { Candle } from '../market/candle';
import type { CandleMeta, MarketFeed } from '../market/market-feed';
import type { Evaluation, Orchestrator } from './orchestrator';
import type { StrategySignal } from './strategy-signal';

/**
 * Where signals go (persist, publish). Must resolve only once the signal is durable: the
 * orchestrator commits the new position after it resolves. A rejection is logged and the
 * position stays, so the strategy may signal again on a later candle.
 */
export type EmitSignal = (signal: StrategySignal) => Promise<void>;

export interface StrategyRunnerOptions {
  feed: MarketFeed;
  orchestrator: Orchestrator;
  emit: EmitSignal;
  logger: Logger;
  /** Every evaluation, signal or not (metrics, debugging). Must not throw. */
  onEvaluation?: (evaluation: Evaluation) => void;
}

/**
 * Connects a feed to the orchestrator. Candles are handled strictly one after another (an emit
 * in flight holds the next candle back), so signals leave in candle order. Who may run it
 * (leader election) is the caller's business: start it when leading, stop it when not.
 */
export class StrategyRunner {
  private unsubscribe: (() => void) | null = null;
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly options: StrategyRunnerOptions) {
    const { feed, orchestrator } = options;
    if (feed.symbol !== orchestrator.symbol || feed.interval !== orchestrator.interval) {
      throw new Error(`feed ${feed.symbol} ${feed.interval} does not match orchestrator ${orchestrator.symbol} ${orchestrator.interval}`);
    }
  }

  get running(): boolean {
    return this.unsubscribe !== null;
  }

  async start(): Promise<void> {
    if (this.unsubscribe) return;
    const { feed, orchestrator, logger } = this.options;
    this.unsubscribe = feed.onCandle((candle, meta) => this.enqueue(candle, meta));
    logger.info({ symbol: feed.symbol, interval: feed.interval, feed: feed.kind, state: orchestrator.state }, 'strategy runner starting');
    try {
      await feed.start({ resumeAfter: orchestrator.state.lastCandleTime });
    } catch (err) {
      this.unsubscribe();
      this.unsubscribe = null;
      throw err;
    }
  }

  /** Stops the feed and waits for the candle in hand (and its emits) to finish. */
  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = null;
    await this.options.feed.stop();
    await this.chain;
  }

  /** Resolves when every candle received so far has been handled. */
  idle(): Promise<void> {
    return this.chain;
  }

  private enqueue(candle: Candle, meta: CandleMeta): void {
    this.chain = this.chain
      .then(() => this.handle(candle, meta))
      .catch((err) => this.options.logger.error({ err, openTime: candle.openTime }, 'strategy runner failed on candle'));
  }

  private async handle(candle: Candle, meta: CandleMeta): Promise<void> {
    const { orchestrator, emit, logger, onEvaluation } = this.options;
    if (meta.backfill) {
      orchestrator.warmUp(candle);
      return;
    }
    let evaluation: Evaluation | null;
    try {
      evaluation = orchestrator.onCandle(candle);
    } catch (err) {
      // Witnesses are sandboxed; reaching here is a bug in the orchestrator itself. Skip the candle, keep running.
      logger.error({ err, openTime: candle.openTime }, 'orchestrator failed on candle');
      return;
    }
    if (!evaluation) return;
    try {
      onEvaluation?.(evaluation);
    } catch (err) {
      logger.warn({ err }, 'onEvaluation hook threw');
    }
    for (const signal of evaluation.signals) {
      try {
        await emit(signal);
      } catch (err) {
        // Stop here: emitting a flip's OPEN after its CLOSE failed would leave users doubly exposed.
        logger.error({ err, action: signal.action, candleTime: signal.candleTime }, 'signal emit failed; position not committed');
        return;
      }
      orchestrator.commit(signal);
      logger.info({ action: signal.action, strength: signal.strength, price: signal.referencePrice, candleTime: signal.candleTime }, 'signal emitted');
    }
  }
}
