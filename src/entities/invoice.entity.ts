import { randomUUID } from 'node:crypto';
import { Entity, Enum, Index, ManyToOne, OptionalProps, PrimaryKey, Property, type Rel, Unique } from '@mikro-orm/core';
import { Money } from './columns';
import { InvoiceStatus, SubscriptionPlan } from './enums';
import { OwnedByUser } from './owner-filter';
import { User } from './user.entity';

/** One line of an invoice as stored: what it is for, its amount and how it was computed. */
export interface StoredInvoiceLine {
  kind: 'SUBSCRIPTION' | 'PROFIT_SHARE';
  /** The plan a subscription line is for. */
  plan?: SubscriptionPlan;
  description: string;
  amount: string;
  calculation: string;
}

/** A user's bill for one calendar month (UTC): subscription by days on each plan plus the month's profit share. */
@Entity({ tableName: 'invoices' })
@OwnedByUser()
@Unique({ properties: ['user', 'periodStart'] })
@Index({ properties: ['status', 'dueAt'] })
@Index({ properties: ['createdAt'] })
export class Invoice {
  [OptionalProps]?:
    | 'id' | 'subscriptionFee' | 'profitShareFee' | 'total' | 'status' | 'lines' | 'createdAt'
    | 'paidAt' | 'paymentReference' | 'paymentSource' | 'voidedAt' | 'voidReason' | 'overdueNotifiedAt' | 'updatedAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @ManyToOne(() => User, { deleteRule: 'cascade' })
  user!: Rel<User>;

  @Property({ type: 'timestamptz' })
  periodStart!: Date;

  @Property({ type: 'timestamptz' })
  periodEnd!: Date;

  /** The plan in force on the month's last day. */
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
  lines: StoredInvoiceLine[] | null = null;

  /** Past this moment an unpaid invoice holds back the user's new OPENs. */
  @Property({ type: 'timestamptz' })
  dueAt!: Date;

  @Property({ type: 'timestamptz', nullable: true })
  paidAt: Date | null = null;

  @Property({ type: 'varchar', length: 200, nullable: true })
  paymentReference: string | null = null;

  /** Who recorded the payment: ADMIN for now (a payment provider's name later). */
  @Property({ type: 'varchar', length: 32, nullable: true })
  paymentSource: string | null = null;

  @Property({ type: 'timestamptz', nullable: true })
  voidedAt: Date | null = null;

  @Property({ type: 'text', nullable: true })
  voidReason: string | null = null;

  /** When its owner was told it is overdue (once per invoice). */
  @Property({ type: 'timestamptz', nullable: true })
  overdueNotifiedAt: Date | null = null;

  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();

  @Property({ type: 'timestamptz' })
  updatedAt: Date = new Date();
}
