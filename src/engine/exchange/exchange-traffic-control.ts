import type { Logger } from 'pino';
import type { EngineMetrics } from '../metrics-port';
import { IpBannedError, RateLimitedError } from './exchange-errors';
import { currentTrafficClass, type TrafficClass } from './traffic-class';

/** Refused at once instead of queued: a user-triggered call when only the trading reserve is left. */
export class TradingReserveError extends RateLimitedError {}

export interface TrafficClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: TrafficClock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export interface TrafficControlOptions {
  /** Weight we allow ourselves per minute, under Binance's 2,400 per IP so other traffic keeps headroom. */
  weightBudgetPerMinute?: number;
  /** A pause longer than this fails fast instead of queueing callers (a 418 can last days). */
  maxWaitMs?: number;
  /** Share of the budget only signal execution may spend (0.3: the last 30 % of each minute's weight). */
  executionReserve?: number;
  clock?: TrafficClock;
  logger?: Pick<Logger, 'warn' | 'info'>;
  metrics?: Pick<EngineMetrics, 'pauseStarted'>;
}

/**
 * Binance's request weight and bans are per IP, so every gateway of this
 * process (one egress) shares one instance: `await gate()` before each call,
 * `observeWeight()` after it, `pause()` on 429/418. While paused nobody sends.
 */
export class ExchangeTrafficControl {
  private readonly budget: number;
  private readonly maxWaitMs: number;
  private readonly clock: TrafficClock;
  private pausedUntil = 0;
  private pauseKind: 'rate_limited' | 'ip_banned' = 'rate_limited';
  private usedWeight = 0;
  /** What this process sent this minute by its own count, and since the last header: the header lags behind what is in flight. */
  private sentWeight = 0;
  private sentSinceHeader = 0;
  private weightMinute = -1;
  private readonly reserve: number;

  constructor(private readonly opts: TrafficControlOptions = {}) {
    this.budget = opts.weightBudgetPerMinute ?? 2000;
    this.maxWaitMs = opts.maxWaitMs ?? 5 * 60_000;
    this.clock = opts.clock ?? realClock;
    this.reserve = opts.executionReserve ?? 0.3;
  }

  /**
   * Resolves when a request of `weight` may go out for the caller's traffic
   * class (see traffic-class.ts); throws when the wait would exceed maxWaitMs,
   * and at once for a user-triggered call that only the trading reserve could carry.
   */
  async gate(weight = 1, kind: TrafficClass = currentTrafficClass()): Promise<void> {
    const ceiling = kind === 'execution' ? this.budget : Math.floor(this.budget * (1 - this.reserve));
    for (;;) {
      const now = this.clock.now();
      let waitMs = 0;
      if (this.pausedUntil > now) waitMs = this.pausedUntil - now;
      else if (this.currentWeight(now) + weight > ceiling) {
        waitMs = 60_000 - (now % 60_000);
        if (kind === 'user') {
          throw new TradingReserveError("Binance's request budget for this minute is kept for trading; try again in a minute.", waitMs);
        }
      }
      if (waitMs <= 0) {
        this.charge(now, weight);
        return;
      }
      if (waitMs > this.maxWaitMs) {
        throw this.pauseKind === 'ip_banned' && this.pausedUntil > now
          ? new IpBannedError('Binance has banned this server\'s IP; requests are paused.', waitMs)
          : new RateLimitedError('Binance request budget exhausted; requests are paused.', waitMs);
      }
      await this.clock.sleep(waitMs);
    }
  }

  /** The `x-mbx-used-weight-1m` Binance reported (per IP, so the highest recent value wins). */
  observeWeight(usedWeight1m: number | null | undefined): void {
    if (usedWeight1m === null || usedWeight1m === undefined || !Number.isFinite(usedWeight1m)) return;
    this.rollMinute(this.clock.now());
    if (usedWeight1m >= this.usedWeight) {
      this.usedWeight = usedWeight1m;
      this.sentSinceHeader = 0;
    }
  }

  private charge(now: number, weight: number): void {
    this.rollMinute(now);
    this.sentWeight += weight;
    this.sentSinceHeader += weight;
  }

  private rollMinute(now: number): void {
    const minute = Math.floor(now / 60_000);
    if (minute === this.weightMinute) return;
    this.weightMinute = minute;
    this.usedWeight = 0;
    this.sentWeight = 0;
    this.sentSinceHeader = 0;
  }

  /** Every caller waits until Retry-After has passed. */
  pause(ms: number, kind: 'rate_limited' | 'ip_banned'): void {
    const until = this.clock.now() + Math.max(ms, 0);
    if (until > this.pausedUntil) {
      if (this.pausedUntil <= this.clock.now()) this.opts.metrics?.pauseStarted(kind);
      this.pausedUntil = until;
      this.pauseKind = kind;
      this.opts.logger?.warn({ pauseMs: ms, kind }, 'binance traffic paused');
    }
  }

  /** How long until a user-triggered call of `weight` fits outside the trading reserve (0: now). */
  waitForUserCallMs(weight: number): number {
    const now = this.clock.now();
    if (this.pausedUntil > now) return this.pausedUntil - now;
    const ceiling = Math.floor(this.budget * (1 - this.reserve));
    return this.currentWeight(now) + weight > ceiling ? 60_000 - (now % 60_000) : 0;
  }

  get pausedForMs(): number {
    return Math.max(0, this.pausedUntil - this.clock.now());
  }

  /** The weight per minute we allow ourselves (the limit `weightUsed` is held under). */
  get weightBudget(): number {
    return this.budget;
  }

  get weightUsed(): number {
    return this.currentWeight(this.clock.now());
  }

  private currentWeight(now: number): number {
    return Math.floor(now / 60_000) === this.weightMinute ? Math.max(this.usedWeight + this.sentSinceHeader, this.sentWeight) : 0;
  }
}
