import type Redis from 'ioredis';
import type { Logger } from 'pino';

/**
 * Takes a seat for `member` when fewer than `cap` unexpired ones are held; every time is Redis's own, so
 * nodes' clocks do not matter. KEYS[1] the user's set; ARGV: member, cap, lease (ms).
 */
const TAKE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
return 1`;

/** Moves the seats of this node's open sockets forward (and puts back those an outage let expire). */
const RENEW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
return 1`;

/** How long a seat outlives its node's last renewal: a node that dies frees its users' seats within this. */
const LEASE_MS = 60_000;
/** A seat is not worth holding a handshake up for: past this the node's own cap decides alone. */
const ANSWER_WITHIN_MS = 500;

/**
 * Each user's open sockets across the cluster, one Redis sorted set per user
 * (member: the connection, score: when its seat lapses unless renewed). The
 * per-node cap is checked first and always holds; this adds the cluster's:
 * without Redis (or when it does not answer in time) a socket is let through
 * on the per-node cap alone, so an outage never locks users out of their live
 * updates.
 */
export class SocketSeats {
  private readonly held = new Map<string, string>();
  private readonly timer: NodeJS.Timeout | null;

  constructor(
    private readonly redis: Redis | null,
    private readonly cap: number,
    private readonly logger: Logger,
    private readonly leaseMs = LEASE_MS,
  ) {
    this.timer = redis ? setInterval(() => void this.renew(), Math.floor(leaseMs / 3)) : null;
    this.timer?.unref();
  }

  /** True when `connId` may open (a seat taken, or no answer from Redis); false when the user is at the cap in the cluster. */
  async take(userId: string, connId: string): Promise<boolean> {
    if (!this.redis) return true;
    try {
      const taken = await this.answered(this.redis.eval(TAKE, 1, key(userId), connId, this.cap, this.leaseMs));
      if (taken === 0) return false;
      this.held.set(connId, userId);
      return true;
    } catch (err) {
      this.logger.warn({ userId, err: (err as Error).message }, 'socket seat not checked across the cluster (Redis); the node cap applies');
      return true;
    }
  }

  release(userId: string, connId: string): void {
    if (!this.held.delete(connId) || !this.redis) return;
    this.redis.zrem(key(userId), connId).catch(() => undefined);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    for (const [connId, userId] of this.held) this.release(userId, connId);
  }

  private async renew(): Promise<void> {
    if (!this.redis || this.held.size === 0) return;
    const pipeline = this.redis.pipeline();
    for (const [connId, userId] of this.held) pipeline.eval(RENEW, 1, key(userId), connId, this.leaseMs);
    await pipeline.exec().catch((err: Error) => this.logger.warn({ err: err.message }, 'socket seats not renewed (Redis)'));
  }

  private answered<T>(command: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([
      command,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('no answer in time')), ANSWER_WITHIN_MS);
      }),
    ]).finally(() => clearTimeout(timer));
  }
}

const key = (userId: string) => `sockets:${userId}`;
