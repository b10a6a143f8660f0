import { Entity, OneToOne, OptionalProps, Property, type Rel } from '@mikro-orm/core';
import { Money, Ratio } from './columns';
import { OwnedByUser } from './owner-filter';
import { User } from './user.entity';

/** Per-user risk bookkeeping; limits left null use the platform defaults. */
@Entity({ tableName: 'user_risk_states' })
@OwnedByUser()
export class UserRiskState {
  [OptionalProps]?: 'equityHighWater' | 'lastEquity' | 'currentDrawdown' | 'dayStartEquity' | 'dayStart' | 'weekStartEquity' | 'weekStart' | 'dailyLoss' | 'weeklyLoss' | 'consecutiveLosses' | 'isLocked' | 'lockKind' | 'lockedReason' | 'lockedAt' | 'maxDrawdown' | 'maxDailyLossPct' | 'maxWeeklyLossPct' | 'maxConsecutiveLosses' | 'updatedAt';

  @OneToOne(() => User, { primary: true, owner: true, deleteRule: 'cascade' })
  user!: Rel<User>;

  @Money({ nullable: true })
  equityHighWater: string | null = null;

  /** The equity of the last judgement (what a new day or week starts from). */
  @Money({ nullable: true })
  lastEquity: string | null = null;

  @Ratio()
  currentDrawdown: string = '0';

  /** Start-of-day and start-of-week equity (UTC day, ISO week) the losses are measured from. */
  @Money({ nullable: true })
  dayStartEquity: string | null = null;

  @Property({ type: 'timestamptz', nullable: true })
  dayStart: Date | null = null;

  @Money({ nullable: true })
  weekStartEquity: string | null = null;

  @Property({ type: 'timestamptz', nullable: true })
  weekStart: Date | null = null;

  @Money()
  dailyLoss: string = '0';

  @Money()
  weeklyLoss: string = '0';

  @Property({ type: 'integer' })
  consecutiveLosses: number = 0;

  @Property({ type: 'boolean' })
  isLocked: boolean = false;

  /** DAILY_LOSS | WEEKLY_LOSS | DRAWDOWN | LOSS_STREAK: decides when the lock lifts. */
  @Property({ type: 'varchar', length: 32, nullable: true })
  lockKind: string | null = null;

  @Property({ type: 'text', nullable: true })
  lockedReason: string | null = null;

  @Property({ type: 'timestamptz', nullable: true })
  lockedAt: Date | null = null;

  @Ratio({ nullable: true })
  maxDrawdown: string | null = null;

  @Ratio({ nullable: true })
  maxDailyLossPct: string | null = null;

  @Ratio({ nullable: true })
  maxWeeklyLossPct: string | null = null;

  @Property({ type: 'integer', nullable: true })
  maxConsecutiveLosses: number | null = null;

  @Property({ type: 'timestamptz', onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}
