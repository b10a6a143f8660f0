import { Entity, ManyToOne, OptionalProps, PrimaryKey, Property, type Rel } from '@mikro-orm/core';
import { OwnedByUser } from './owner-filter';
import { User } from './user.entity';

/**
 * How far the reconciler has read one of an account's exchange histories over
 * REST (`fills:<symbol>`, `income`): the next pass resumes from here. Kept apart
 * from the newest stored row on purpose: the user-data stream stores fresh rows
 * as soon as it reconnects, and resuming from those would skip whatever
 * happened while it was away.
 */
@Entity({ tableName: 'ledger_cursors' })
@OwnedByUser()
export class LedgerCursor {
  [OptionalProps]?: 'updatedAt';

  @ManyToOne(() => User, { primary: true, deleteRule: 'cascade' })
  user!: Rel<User>;

  @PrimaryKey({ type: 'varchar', length: 48 })
  feed!: string;

  /** Exchange history up to this instant has been read and stored. */
  @Property({ type: 'timestamptz' })
  syncedThrough!: Date;

  @Property({ type: 'timestamptz' })
  updatedAt: Date = new Date();
}
