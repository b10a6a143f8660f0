import type { Logger } from 'pino';
import type { EngineMetrics } from '../metrics-port';
import { IpBannedError, RateLimitedError } from './exchange-errors';

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
  private weightMinute = -1;

  constructor(private readonly opts: TrafficControlOptions = {}) {
    this.budget = opts.weightBudgetPerMinute ?? 2000;
    this.maxWaitMs = opts.maxWaitMs ?? 5 * 60_000;
    this.clock = opts.clock ?? realClock;
  }

  /** Resolves when a request may go out; throws when the wait would exceed maxWaitMs. */
  async gate(): Promise<void> {
    for (;;) {
      const now = this.clock.now();
      let waitMs = 0;
      if (this.pausedUntil > now) waitMs = this.pausedUntil - now;
      else if (this.currentWeight(now) >= this.budget) waitMs = 60_000 - (now % 60_000);
      if (waitMs <= 0) return;
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
    const minute = Math.floor(this.clock.now() / 60_000);
    if (minute !== this.weightMinute) {
      this.weightMinute = minute;
      this.usedWeight = 0;
    }
    this.usedWeight = Math.max(this.usedWeight, usedWeight1m);
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
    return Math.floor(now / 60_000) === this.weightMinute ? this.usedWeight : 0;
  }
}
