import { randomUUID } from 'node:crypto';
import { Entity, Enum, Index, ManyToOne, OptionalProps, PrimaryKey, Property, type Rel, Unique } from '@mikro-orm/core';
import { Money, Ratio } from './columns';
import { PeriodType, SubscriptionPlan } from './enums';
import { Invoice } from './invoice.entity';
import { OwnedByUser } from './owner-filter';
import { User } from './user.entity';

/**
 * One user's settled UTC day (period DAILY), written only by the daily
 * settlement (src/services/billing/profit-tracker.ts). Weekly and monthly
 * figures are sums of these, computed when read.
 */
@Entity({ tableName: 'user_profits' })
@OwnedByUser()
@Unique({ properties: ['user', 'periodType', 'periodStart'] })
@Index({ properties: ['user', 'periodStart'] })
@Index({ properties: ['periodType', 'periodStart'] })
export class UserProfit {
  [OptionalProps]?:
    | 'id' | 'startingBalance' | 'endingBalance' | 'grossProfit' | 'feeRate' | 'platformFee' | 'netProfit' | 'createdAt'
    | 'realizedPnl' | 'commission' | 'funding' | 'capitalFlows' | 'billable'
    | 'final' | 'movementCount' | 'cumulativeGross' | 'highWaterMark' | 'highWaterMarkBefore' | 'invoice' | 'updatedAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @ManyToOne(() => User, { deleteRule: 'cascade' })
  user!: Rel<User>;

  @Enum({ items: () => PeriodType, type: 'varchar', length: 16 })
  periodType!: PeriodType;

  @Property({ type: 'timestamptz' })
  periodStart!: Date;

  /** The day's end; for a day still running (settled "so far") the moment it was settled up to. */
  @Property({ type: 'timestamptz' })
  periodEnd!: Date;

  /** The plan in force at the day's start (00:00 UTC): its rate applies to the whole day. */
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

  // What gross was made of (USDT values): each invoice line shows it.
  @Money()
  realizedPnl: string = '0';

  /** Fees paid, positive. */
  @Money()
  commission: string = '0';

  /** Funding received (positive) or paid (negative). */
  @Money()
  funding: string = '0';

  /** Deposits, withdrawals and transfers of the day: shown, never billed. */
  @Money()
  capitalFlows: string = '0';

  /** What the rate applied to: the day's gain (daily) or the gain above the high-water mark. */
  @Money()
  billable: string = '0';

  /** False while the day is still running: the next settlement of the day replaces it. */
  @Property({ type: 'boolean' })
  final: boolean = true;

  /** How many movements the figures were made from: a later settlement recomputes the day when the ledger has more. */
  @Property({ type: 'integer' })
  movementCount: number = 0;

  /** High-water-mark mode: Σ gross of the user's settled days through this one (null in daily mode). */
  @Money({ nullable: true })
  cumulativeGross: string | null = null;

  /** High-water-mark mode: the highest cumulative gross billed so far, after this day. */
  @Money({ nullable: true })
  highWaterMark: string | null = null;

  /** High-water-mark mode: the mark this day was measured against. */
  @Money({ nullable: true })
  highWaterMarkBefore: string | null = null;

  /** The invoice that billed this day's fee; once set the day is never recomputed. */
  @ManyToOne(() => Invoice, { nullable: true, deleteRule: 'set null' })
  invoice: Rel<Invoice> | null = null;

  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();

  @Property({ type: 'timestamptz' })
  updatedAt: Date = new Date();
}
