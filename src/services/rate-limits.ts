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

  /** Spends `points` of `key`'s allowance under `name`; RATE_LIMITED (with retryAfterSeconds) once it is spent. */
  async consume(name: Name, key: string, points = 1): Promise<void> {
    const { limiter, rule } = this.entry(name);
    try {
      await limiter.consume(key, points);
    } catch (err) {
      if (err instanceof RateLimiterRes) {
        throw rateLimited(`${rule.message}; try again in ${Math.max(1, Math.ceil(err.msBeforeNext / 1000))} s`, Math.ceil(err.msBeforeNext / 1000));
      }
      throw err;
    }
  }

  /** Points left for `key` in the current window (the full allowance when nothing was spent). */
  async remaining(name: Name, key: string): Promise<number> {
    const { limiter, rule } = this.entry(name);
    const res = await limiter.get(key);
    return res ? Math.max(0, res.remainingPoints) : rule.points;
  }

  async reset(name: Name, key: string): Promise<void> {
    await this.entry(name).limiter.delete(key);
  }

  private entry(name: Name) {
    const entry = this.limiters.get(name);
    if (!entry) throw new Error(`unknown rate limit ${name}`);
    return entry;
  }
}
