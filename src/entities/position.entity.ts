import { randomUUID } from 'node:crypto';
import { Entity, Enum, ManyToOne, OptionalProps, PrimaryKey, Property, type Rel, Unique } from '@mikro-orm/core';
import { Money } from './columns';
import { PositionSide } from './enums';
import { OwnedByUser } from './owner-filter';
import { User } from './user.entity';

/** Our view of the user's position per symbol, kept current from the user-data stream and the reconciler. */
@Entity({ tableName: 'positions' })
@OwnedByUser()
@Unique({ properties: ['user', 'symbol'] })
export class Position {
  [OptionalProps]?: 'id' | 'side' | 'quantity' | 'entryPrice' | 'markPrice' | 'unrealizedPnl' | 'leverage' | 'openedByStrategy' | 'updatedAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @ManyToOne(() => User, { deleteRule: 'cascade' })
  user!: Rel<User>;

  @Property({ type: 'varchar', length: 32 })
  symbol!: string;

  @Enum({ items: () => PositionSide, type: 'varchar', length: 8 })
  side: PositionSide = PositionSide.FLAT;

  /** Absolute size; the side says the direction. */
  @Money()
  quantity: string = '0';

  @Money()
  entryPrice: string = '0';

  @Money({ nullable: true })
  markPrice: string | null = null;

  @Money()
  unrealizedPnl: string = '0';

  @Property({ type: 'integer' })
  leverage: number = 1;

  /** True while the open position was opened by the shared strategy (CLOSE signals target these). */
  @Property({ type: 'boolean' })
  openedByStrategy: boolean = false;

  @Property({ type: 'timestamptz', onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}
