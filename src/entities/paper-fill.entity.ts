import { randomUUID } from 'node:crypto';
import { Entity, Enum, Index, ManyToOne, OptionalProps, PrimaryKey, Property, type Rel, Unique } from '@mikro-orm/core';
import { Money } from './columns';
import { OrderSide } from './enums';
import { OwnedByUser } from './owner-filter';
import { User } from './user.entity';

/** A filled market order on a paper account: the simulated exchange's order and trade record. */
@Entity({ tableName: 'paper_fills' })
@OwnedByUser()
@Unique({ properties: ['user', 'clientOrderId'] })
@Index({ properties: ['user', 'createdAt'] })
export class PaperFill {
  [OptionalProps]?: 'id' | 'realizedPnl' | 'commission' | 'reduceOnly' | 'createdAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @ManyToOne(() => User, { deleteRule: 'cascade' })
  user!: Rel<User>;

  @Property({ type: 'bigint' })
  orderId!: string;

  @Property({ type: 'varchar', length: 36 })
  clientOrderId!: string;

  @Property({ type: 'varchar', length: 32 })
  symbol!: string;

  @Enum({ items: () => OrderSide, type: 'varchar', length: 8 })
  side!: OrderSide;

  @Money()
  quantity!: string;

  @Money()
  price!: string;

  @Money()
  realizedPnl: string = '0';

  @Money()
  commission: string = '0';

  @Property({ type: 'boolean' })
  reduceOnly: boolean = false;

  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();
}
