import { randomUUID } from 'node:crypto';
import { Entity, Index, ManyToOne, OptionalProps, PrimaryKey, Property, type Rel } from '@mikro-orm/core';
import { Money } from './columns';
import { OwnedByUser } from './owner-filter';
import { User } from './user.entity';

@Entity({ tableName: 'balance_snapshots' })
@OwnedByUser()
@Index({ properties: ['user', 'takenAt'] })
export class BalanceSnapshot {
  [OptionalProps]?: 'id' | 'unrealizedPnl' | 'source' | 'takenAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @ManyToOne(() => User, { deleteRule: 'cascade' })
  user!: Rel<User>;

  @Money()
  equity!: string;

  @Money()
  walletBalance!: string;

  @Money()
  availableBalance!: string;

  @Money()
  unrealizedPnl: string = '0';

  /** SIGNAL | STREAM | RECONCILE | DAILY */
  @Property({ type: 'varchar', length: 16 })
  source: string = 'RECONCILE';

  @Property({ type: 'timestamptz' })
  takenAt: Date = new Date();
}
