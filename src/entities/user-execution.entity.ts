import { randomUUID } from 'node:crypto';
import { Entity, Enum, Index, ManyToOne, OptionalProps, PrimaryKey, Property, type Rel, Unique } from '@mikro-orm/core';
import { Money } from './columns';
import { ExecutionStatus } from './enums';
import { OwnedByUser } from './owner-filter';
import { Order } from './order.entity';
import { Signal } from './signal.entity';
import { User } from './user.entity';

/** One user's outcome for one signal. */
@Entity({ tableName: 'user_executions' })
@OwnedByUser()
@Unique({ properties: ['signal', 'user'] })
@Index({ properties: ['user', 'createdAt'] })
export class UserExecution {
  [OptionalProps]?: 'id' | 'reason' | 'order' | 'dispatchRank' | 'latencyMs' | 'fillPrice' | 'slippage' | 'createdAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @ManyToOne(() => Signal, { deleteRule: 'cascade' })
  signal!: Rel<Signal>;

  @ManyToOne(() => User, { deleteRule: 'cascade' })
  user!: Rel<User>;

  @Enum({ items: () => ExecutionStatus, type: 'varchar', length: 16 })
  status!: ExecutionStatus;

  @Property({ type: 'text', nullable: true })
  reason: string | null = null;

  @ManyToOne(() => Order, { nullable: true, deleteRule: 'set null' })
  order: Rel<Order> | null = null;

  /** Position of this user in the signal's dispatch order (0 = first). */
  @Property({ type: 'integer', nullable: true })
  dispatchRank: number | null = null;

  @Property({ type: 'integer' })
  latencyMs: number = 0;

  @Money({ nullable: true })
  fillPrice: string | null = null;

  /** (fill − reference) / reference, signed against the user: positive = worse than the reference. */
  @Money({ nullable: true })
  slippage: string | null = null;

  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();
}
