import { randomUUID } from 'node:crypto';
import { Entity, Enum, Index, ManyToOne, OptionalProps, PrimaryKey, Property, type Rel } from '@mikro-orm/core';
import { Money } from './columns';
import { OrderOrigin, OrderSide, OrderStatus } from './enums';
import { OwnedByUser } from './owner-filter';
import { Signal } from './signal.entity';
import { User } from './user.entity';

@Entity({ tableName: 'orders' })
@OwnedByUser()
@Index({ properties: ['user', 'createdAt'] })
@Index({ properties: ['status'] })
// Platform statistics count the last 24 h of orders across users.
@Index({ properties: ['createdAt'] })
@Index({ properties: ['signal'] })
@Index({ properties: ['user', 'exchangeOrderId'] })
export class Order {
  [OptionalProps]?: 'id' | 'signal' | 'exchangeOrderId' | 'origin' | 'type' | 'avgPrice' | 'executedQty' | 'reduceOnly' | 'status' | 'error' | 'unknownSince' | 'createdAt' | 'updatedAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @ManyToOne(() => User, { deleteRule: 'cascade' })
  user!: Rel<User>;

  @ManyToOne(() => Signal, { nullable: true, deleteRule: 'set null' })
  signal: Rel<Signal> | null = null;

  /** Deterministic from (signal, user) for engine orders: the idempotency key at the exchange. */
  @Property({ type: 'varchar', length: 36, unique: true })
  clientOrderId!: string;

  @Property({ type: 'varchar', length: 32, nullable: true })
  exchangeOrderId: string | null = null;

  @Enum({ items: () => OrderOrigin, type: 'varchar', length: 16 })
  origin: OrderOrigin = OrderOrigin.STRATEGY;

  @Property({ type: 'varchar', length: 32 })
  symbol!: string;

  @Enum({ items: () => OrderSide, type: 'varchar', length: 8 })
  side!: OrderSide;

  @Property({ type: 'varchar', length: 32 })
  type: string = 'MARKET';

  @Money()
  quantity!: string;

  @Money({ nullable: true })
  avgPrice: string | null = null;

  @Money()
  executedQty: string = '0';

  @Property({ type: 'boolean' })
  reduceOnly: boolean = false;

  @Enum({ items: () => OrderStatus, type: 'varchar', length: 20 })
  status: OrderStatus = OrderStatus.PENDING;

  @Property({ type: 'text', nullable: true })
  error: string | null = null;

  /**
   * Set while the exchange may hold this order but never said so (a timeout, a
   * 5xx "unknown", a reset after sending): nothing may send it again until the
   * reconciler (or a resumed task) has looked it up by client id.
   */
  @Property({ type: 'timestamptz', nullable: true })
  unknownSince: Date | null = null;

  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();

  @Property({ type: 'timestamptz', onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}
