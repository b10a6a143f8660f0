import { randomUUID } from 'node:crypto';
import { Entity, Enum, ManyToOne, OptionalProps, PrimaryKey, Property, type Rel, Unique } from '@mikro-orm/core';
import { Money } from './columns';
import { InvoiceStatus, SubscriptionPlan } from './enums';
import { OwnedByUser } from './owner-filter';
import { User } from './user.entity';

@Entity({ tableName: 'invoices' })
@OwnedByUser()
@Unique({ properties: ['user', 'periodStart'] })
export class Invoice {
  [OptionalProps]?: 'id' | 'subscriptionFee' | 'profitShareFee' | 'total' | 'status' | 'lines' | 'createdAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @ManyToOne(() => User, { deleteRule: 'cascade' })
  user!: Rel<User>;

  @Property({ type: 'timestamptz' })
  periodStart!: Date;

  @Property({ type: 'timestamptz' })
  periodEnd!: Date;

  @Enum({ items: () => SubscriptionPlan, type: 'varchar', length: 16 })
  plan!: SubscriptionPlan;

  @Money()
  subscriptionFee: string = '0';

  @Money()
  profitShareFee: string = '0';

  @Money()
  total: string = '0';

  @Enum({ items: () => InvoiceStatus, type: 'varchar', length: 8 })
  status: InvoiceStatus = InvoiceStatus.OPEN;

  @Property({ type: 'json', nullable: true })
  lines: Record<string, unknown>[] | null = null;

  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();
}
