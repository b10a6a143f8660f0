import { randomUUID } from 'node:crypto';
import { Entity, Enum, Index, ManyToOne, OptionalProps, PrimaryKey, Property, type Rel, Unique } from '@mikro-orm/core';
import { Money, Ratio } from './columns';
import { PeriodType, SubscriptionPlan } from './enums';
import { OwnedByUser } from './owner-filter';
import { User } from './user.entity';

@Entity({ tableName: 'user_profits' })
@OwnedByUser()
@Unique({ properties: ['user', 'periodType', 'periodStart'] })
@Index({ properties: ['user', 'periodStart'] })
export class UserProfit {
  [OptionalProps]?: 'id' | 'startingBalance' | 'endingBalance' | 'grossProfit' | 'feeRate' | 'platformFee' | 'netProfit' | 'calculation' | 'createdAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @ManyToOne(() => User, { deleteRule: 'cascade' })
  user!: Rel<User>;

  @Enum({ items: () => PeriodType, type: 'varchar', length: 16 })
  periodType!: PeriodType;

  @Property({ type: 'timestamptz' })
  periodStart!: Date;

  @Property({ type: 'timestamptz' })
  periodEnd!: Date;

  @Enum({ items: () => SubscriptionPlan, type: 'varchar', length: 16 })
  plan!: SubscriptionPlan;

  @Money()
  startingBalance: string = '0';

  @Money()
  endingBalance: string = '0';

  @Money()
  grossProfit: string = '0';

  @Ratio()
  feeRate: string = '0';

  @Money()
  platformFee: string = '0';

  @Money()
  netProfit: string = '0';

  /** How the fee was computed (mode, inputs), shown on the invoice line. */
  @Property({ type: 'json', nullable: true })
  calculation: Record<string, unknown> | null = null;

  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();
}
