import { randomUUID } from 'node:crypto';
import { Entity, Enum, Index, ManyToOne, OptionalProps, PrimaryKey, Property, type Rel, Unique } from '@mikro-orm/core';
import { Money } from './columns';
import { OrderSide } from './enums';
import { OwnedByUser } from './owner-filter';
import { Order } from './order.entity';
import { User } from './user.entity';

/** A fill on the user's account, ours or found by the reconciler. */
@Entity({ tableName: 'trades' })
@OwnedByUser()
@Unique({ properties: ['user', 'symbol', 'exchangeTradeId'] })
@Index({ properties: ['user', 'executedAt'] })
export class Trade {
  [OptionalProps]?: 'id' | 'order' | 'realizedPnl' | 'commission' | 'commissionAsset' | 'createdAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @ManyToOne(() => User, { deleteRule: 'cascade' })
  user!: Rel<User>;

  @ManyToOne(() => Order, { nullable: true, deleteRule: 'set null' })
  order: Rel<Order> | null = null;

  @Property({ type: 'varchar', length: 64 })
  exchangeTradeId!: string;

  @Property({ type: 'varchar', length: 32 })
  symbol!: string;

  @Enum({ items: () => OrderSide, type: 'varchar', length: 8 })
  side!: OrderSide;

  @Money()
  price!: string;

  @Money()
  quantity!: string;

  @Money()
  realizedPnl: string = '0';

  @Money()
  commission: string = '0';

  @Property({ type: 'varchar', length: 16 })
  commissionAsset: string = 'USDT';

  @Property({ type: 'timestamptz' })
  executedAt!: Date;

  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();
}
