import { createHash } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';

export interface HeldLock {
  name: string;
  /** Whole seconds until it ends (at least 1). */
  retryAfterSeconds: number;
}

const keyHash = (name: string, key: string) => createHash('sha256').update(`${name}\u0000${key}`, 'utf8').digest('hex');

/**
 * Password-guess locks that were reached, in PostgreSQL (`auth_locks`). The
 * counters live in Redis, and while Redis is away each node counts from zero
 * in memory: without this record, a lock reached before an outage would be
 * lifted by it. Both times come from the database's clock.
 */
export class AuthLockStore {
  constructor(private readonly orm: MikroORM) {}

  /** Records that `name`/`key` is locked for `seconds` from now (a longer lock already recorded stays). */
  async lock(name: string, key: string, seconds: number): Promise<void> {
    const conn = this.orm.em.fork().getConnection();
    await conn.execute(
      `insert into auth_locks (key_hash, counter, locked_until) values (?, ?, now() + make_interval(secs => ?))
       on conflict (key_hash) do update set locked_until = greatest(auth_locks.locked_until, excluded.locked_until)`,
      [keyHash(name, key), name, seconds],
    );
    // Locks are rare (one per five failures): pruning here keeps the table to the locks of the last day.
    await conn.execute(`delete from auth_locks where locked_until < now() - interval '1 day'`);
  }

  /** The lock still running among `counters`, the longest first; null when none is. */
  async held(counters: Array<{ name: string; key: string }>): Promise<HeldLock | null> {
    if (counters.length === 0) return null;
    const hashes = counters.map((c) => keyHash(c.name, c.key));
    const rows = await this.orm.em.fork().getConnection().execute<Array<{ counter: string; seconds: string }>>(
      `select counter, ceil(extract(epoch from locked_until - now())) as seconds from auth_locks
       where key_hash in (${hashes.map(() => '?').join(', ')}) and locked_until > now()
       order by locked_until desc limit 1`,
      hashes,
    );
    return rows.length > 0 ? { name: rows[0].counter, retryAfterSeconds: Math.max(1, Number(rows[0].seconds)) } : null;
  }
}
