import { randomUUID } from 'node:crypto';
import { Entity, ManyToOne, OptionalProps, PrimaryKey, Property, type Rel, Unique } from '@mikro-orm/core';
import { OwnedByUser } from './owner-filter';
import { User } from './user.entity';

/**
 * A user's UTC day that settlement could not settle yet (a movement without a
 * USDT value, or in high-water-mark mode an earlier day still open). The daily
 * job settles it again until it can; the row goes when it is settled.
 */
@Entity({ tableName: 'profit_deferrals' })
@OwnedByUser()
@Unique({ properties: ['user', 'day'] })
export class ProfitDeferral {
  [OptionalProps]?: 'id' | 'unvalued' | 'firstSeenAt' | 'lastSeenAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @ManyToOne(() => User, { deleteRule: 'cascade' })
  user!: Rel<User>;

  @Property({ type: 'timestamptz' })
  day!: Date;

  @Property({ type: 'varchar', length: 200 })
  reason!: string;

  /** Movements of the day still without a USDT value. */
  @Property({ type: 'integer' })
  unvalued: number = 0;

  @Property({ type: 'timestamptz' })
  firstSeenAt: Date = new Date();

  @Property({ type: 'timestamptz' })
  lastSeenAt: Date = new Date();
}
