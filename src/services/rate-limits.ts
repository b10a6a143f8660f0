import type Redis from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { rateLimited } from '../errors/app-error';

export interface LimitRule {
  /** Requests allowed per window. */
  points: number;
  windowSeconds: number;
  /** Once spent, refuse for this long (default: until the window ends). */
  blockSeconds?: number;
  /** What the refusal says, e.g. "Too many password-reset requests". */
  message: string;
}

/**
 * Named per-key rate limits (rate-limiter-flexible). On Redis every node
 * shares the counts; while Redis is unreachable each node falls back to its
 * own in-memory counts (insurance limiter), so a Redis outage narrows the
 * limits to per-node ones instead of lifting them.
 */
export class RateLimits<Name extends string = string> {
  private readonly limiters = new Map<Name, { limiter: RateLimiterAbstract; rule: LimitRule }>();

  constructor(redis: Redis | null, keyPrefix: string, rules: Record<Name, LimitRule>) {
    for (const [name, rule] of Object.entries(rules) as Array<[Name, LimitRule]>) {
      const options = {
        keyPrefix: `${keyPrefix}:rl:${name}`,
        points: rule.points,
        duration: rule.windowSeconds,
        blockDuration: rule.blockSeconds ?? 0,
      };
      const memory = new RateLimiterMemory(options);
      const limiter = redis
        ? new RateLimiterRedis({ ...options, storeClient: redis, rejectIfRedisNotReady: true, insuranceLimiter: memory })
        : memory;
      this.limiters.set(name, { limiter, rule });
    }
  }

  /**
   * Spends `points` of `key`'s allowance under `name`; RATE_LIMITED (with
   * retryAfterSeconds) once it is spent. Resolves with the points the key has
   * spent in the window, this call included.
   */
  async consume(name: Name, key: string, points = 1): Promise<number> {
    const { limiter, rule } = this.entry(name);
    try {
      return (await limiter.consume(key, points)).consumedPoints;
    } catch (err) {
      if (err instanceof RateLimiterRes) throw this.refusal(rule, err.msBeforeNext);
      throw err;
    }
  }

  /** Like consume, but answers false instead of refusing (for best-effort work such as throttled audit rows). */
  async allows(name: Name, key: string): Promise<boolean> {
    try {
      await this.entry(name).limiter.consume(key, 1);
      return true;
    } catch (err) {
      if (err instanceof RateLimiterRes) return false;
      throw err;
    }
  }

  /** Gives back points a consume took (an attempt that turned out not to count). */
  async refund(name: Name, key: string, points = 1): Promise<void> {
    await this.entry(name).limiter.reward(key, points);
  }

  /** Points `key` has spent in the current window (0 when none). */
  async spent(name: Name, key: string): Promise<number> {
    const res = await this.entry(name).limiter.get(key);
    return res ? Math.max(0, res.consumedPoints) : 0;
  }

  /** Refuses `key` from now for the rule's block time (its window when it has none). */
  async block(name: Name, key: string): Promise<void> {
    const { limiter, rule } = this.entry(name);
    await limiter.block(key, rule.blockSeconds ?? rule.windowSeconds);
  }

  /** Points left for `key` in the current window (the full allowance when nothing was spent). */
  async remaining(name: Name, key: string): Promise<number> {
    const { limiter, rule } = this.entry(name);
    const res = await limiter.get(key);
    return res ? Math.max(0, res.remainingPoints) : rule.points;
  }

  ruleOf(name: Name): LimitRule {
    return this.entry(name).rule;
  }

  async reset(name: Name, key: string): Promise<void> {
    await this.entry(name).limiter.delete(key);
  }

  /** The RATE_LIMITED answer of `name` for a refusal that ends in `seconds` (a lock recorded elsewhere). */
  refusalOf(name: Name, seconds: number) {
    return this.refusal(this.entry(name).rule, seconds * 1000);
  }

  private refusal(rule: LimitRule, msBeforeNext: number) {
    const seconds = Math.max(1, Math.ceil(msBeforeNext / 1000));
    const wait = seconds >= 120 ? `${Math.ceil(seconds / 60)} minutes` : `${seconds} s`;
    return rateLimited(`${rule.message}; try again in ${wait}`, seconds);
  }

  private entry(name: Name) {
    const entry = this.limiters.get(name);
    if (!entry) throw new Error(`unknown rate limit ${name}`);
    return entry;
  }
}
