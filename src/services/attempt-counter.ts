import type Redis from 'ioredis';

/**
 * Counts failures per key inside a window and locks the key once a limit is
 * reached. Backed by Redis when present, so every node shares the count.
 */
export interface AttemptCounter {
  /** Milliseconds until the lock on `key` lifts, or 0 when it is not locked. */
  lockedFor(key: string): Promise<number>;
  /** Records a failure; returns true when this failure locked the key. */
  fail(key: string): Promise<boolean>;
  reset(key: string): Promise<void>;
}

export interface AttemptPolicy {
  limit: number;
  lockMs: number;
}

export class RedisAttemptCounter implements AttemptCounter {
  constructor(private readonly redis: Redis, private readonly prefix: string, private readonly policy: AttemptPolicy) {}

  async lockedFor(key: string): Promise<number> {
    const ttl = await this.redis.pttl(`${this.prefix}:lock:${key}`);
    return ttl > 0 ? ttl : 0;
  }

  async fail(key: string): Promise<boolean> {
    const countKey = `${this.prefix}:count:${key}`;
    // INCR and PEXPIRE NX in one round trip: the window starts at the first failure.
    const [[, count]] = (await this.redis
      .multi()
      .incr(countKey)
      .pexpire(countKey, this.policy.lockMs, 'NX')
      .exec()) as [[Error | null, number], [Error | null, number]];
    if (count < this.policy.limit) return false;
    await this.redis.multi().set(`${this.prefix}:lock:${key}`, '1', 'PX', this.policy.lockMs).del(countKey).exec();
    return true;
  }

  async reset(key: string): Promise<void> {
    await this.redis.del(`${this.prefix}:count:${key}`);
  }
}

/** Single-node fallback when no REDIS_URL is set. */
export class MemoryAttemptCounter implements AttemptCounter {
  private readonly counts = new Map<string, { count: number; windowEnds: number }>();
  private readonly locks = new Map<string, number>();

  constructor(private readonly policy: AttemptPolicy, private readonly now: () => number = Date.now) {}

  async lockedFor(key: string): Promise<number> {
    const until = this.locks.get(key) ?? 0;
    const left = until - this.now();
    if (left <= 0) this.locks.delete(key);
    return Math.max(0, left);
  }

  async fail(key: string): Promise<boolean> {
    const now = this.now();
    const entry = this.counts.get(key);
    const current = entry && entry.windowEnds > now ? entry : { count: 0, windowEnds: now + this.policy.lockMs };
    current.count += 1;
    this.counts.set(key, current);
    if (current.count < this.policy.limit) return false;
    this.counts.delete(key);
    this.locks.set(key, now + this.policy.lockMs);
    return true;
  }

  async reset(key: string): Promise<void> {
    this.counts.delete(key);
  }
}

/**
 * Redis-backed, failing safe: while Redis does not answer, this node's memory
 * counts decide. A Redis outage therefore narrows the lockout to a per-node
 * one (at most `limit` tries per node per window, counted from the start of
 * the outage) instead of lifting it or turning sign-in into an error.
 */
export class FailSafeAttemptCounter implements AttemptCounter {
  constructor(
    private readonly shared: AttemptCounter,
    private readonly local: AttemptCounter,
    /** False while the shared store is known to be away: no waiting on its retries. */
    private readonly sharedUp: () => boolean,
    private readonly onFallback: (err: Error) => void,
  ) {}

  async lockedFor(key: string): Promise<number> {
    return (await this.tryShared((c) => c.lockedFor(key))) ?? this.local.lockedFor(key);
  }

  async fail(key: string): Promise<boolean> {
    return (await this.tryShared((c) => c.fail(key))) ?? this.local.fail(key);
  }

  async reset(key: string): Promise<void> {
    await Promise.all([this.tryShared((c) => c.reset(key)), this.local.reset(key)]);
  }

  private async tryShared<T>(op: (c: AttemptCounter) => Promise<T>): Promise<T | null> {
    if (!this.sharedUp()) return null;
    try {
      return await op(this.shared);
    } catch (err) {
      this.onFallback(err as Error);
      return null;
    }
  }
}
