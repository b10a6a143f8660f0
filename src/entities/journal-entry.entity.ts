import { Entity, Index, ManyToOne, OptionalProps, PrimaryKey, Property, type Rel } from '@mikro-orm/core';
import { OwnedByUser } from './owner-filter';
import { User } from './user.entity';

/**
 * The ledger's facts that risk judges (fills, closes, balance changes, money
 * movements), appended in the transaction that stored them: an event lost
 * between the commit and its judgement (a crash, a database that went away)
 * is still here, and is judged later, once.
 */
@Entity({ tableName: 'ledger_journal' })
@OwnedByUser()
@Index({ properties: ['user', 'seq'] })
@Index({ name: 'ledger_journal_unjudged_index', expression: 'create index "ledger_journal_unjudged_index" on "ledger_journal" ("seq") where "risk_judged_at" is null' })
export class JournalEntry {
  [OptionalProps]?: 'seq' | 'createdAt' | 'riskJudgedAt';

  @PrimaryKey({ type: 'bigint', autoincrement: true })
  seq!: string;

  @ManyToOne(() => User, { deleteRule: 'cascade' })
  user!: Rel<User>;

  @Property({ type: 'varchar', length: 32 })
  type!: string;

  /** The event as emitted, money as decimal strings and times as ISO strings. */
  @Property({ type: 'json' })
  payload!: Record<string, unknown>;

  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();

  /** Set in the transaction that applied the event to the user's risk state: each event moves it once. */
  @Property({ type: 'timestamptz', nullable: true })
  riskJudgedAt: Date | null = null;
}
