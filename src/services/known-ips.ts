import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { UserKnownIp } from '../entities/user-known-ip.entity';
import { WITHOUT_OWNER } from '../entities/owner-filter';

/** A network unused for this long is a stranger again. */
export const KNOWN_IP_RETENTION_DAYS = 90;
const RETENTION_MS = KNOWN_IP_RETENTION_DAYS * 24 * 60 * 60 * 1000;

/** The networks each user has signed in from successfully (see UserKnownIp). */
export class KnownIpStore {
  async isKnown(em: EntityManager, userId: string, network: string, now: Date): Promise<boolean> {
    const found = await em.count(
      UserKnownIp,
      { user: userId, network, lastSuccessAt: { $gt: new Date(now.getTime() - RETENTION_MS) } },
      WITHOUT_OWNER,
    );
    return found > 0;
  }

  /**
   * Records a successful sign-in from `network`, in the caller's transaction.
   * Answers whether this network was new for a user who already had others
   * (a first sign-in ever is not "from a new address"). One statement, so two
   * sign-ins racing from the same new network report it once.
   */
  async remember(em: EntityManager, userId: string, network: string, now: Date): Promise<{ newNetwork: boolean }> {
    const cutoff = new Date(now.getTime() - RETENTION_MS);
    await em.execute('delete from user_known_ips where user_id = ? and last_success_at <= ?', [userId, cutoff]);
    const rows = await em.execute<Array<{ inserted: boolean; has_others: boolean }>>(
      `insert into user_known_ips (id, user_id, network, first_seen_at, last_success_at)
       values (?, ?, ?, ?, ?)
       on conflict (user_id, network) do update set last_success_at = excluded.last_success_at
       returning (xmax = 0) as inserted,
         exists (select 1 from user_known_ips o where o.user_id = ? and o.network <> ?) as has_others`,
      [randomUUID(), userId, network, now, now, userId, network],
    );
    return { newNetwork: rows[0].inserted && rows[0].has_others };
  }
}
