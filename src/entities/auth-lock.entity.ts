import { Entity, Index, PrimaryKey, Property } from '@mikro-orm/core';

/**
 * A password-guess lock that was reached (5 failures → 15 minutes), kept
 * beside the rate-limiter's counter in Redis so that a lock survives a Redis
 * outage, whose per-node fallback counters start from zero. Sign-in holds
 * while either place says locked (docs/decisions.md, "Sign-in abuse").
 */
@Entity({ tableName: 'auth_locks' })
@Index({ properties: ['lockedUntil'] })
export class AuthLock {
  /**
   * SHA-256 of the limit's name and key. The key may be an address typed by a
   * stranger for which no account exists: it is not kept readable here.
   */
  @PrimaryKey({ type: 'char', length: 64 })
  keyHash!: string;

  /** Which limit locked (loginAccount, loginNetwork, …), for a reader of the table. */
  @Property({ type: 'varchar', length: 40 })
  counter!: string;

  /** Set from the database's clock, so nodes with drifting clocks agree on when it ends. */
  @Property({ type: 'timestamptz' })
  lockedUntil!: Date;
}
