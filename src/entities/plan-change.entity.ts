import { randomUUID } from 'node:crypto';
import { Entity, Enum, Index, ManyToOne, OptionalProps, PrimaryKey, Property, type Rel } from '@mikro-orm/core';
import { SubscriptionPlan } from './enums';
import { OwnedByUser } from './owner-filter';
import { User } from './user.entity';

/**
 * The plan history: a user is on `plan` from `startedAt` until their next row.
 * "The plan in force that day" is the row in force at the day's 00:00 UTC (or
 * the user's first row, for the day the account began). A user without rows
 * has been on their current plan since the account was created.
 */
@Entity({ tableName: 'user_plan_history' })
@OwnedByUser()
@Index({ properties: ['user', 'startedAt'] })
export class PlanChange {
  [OptionalProps]?: 'id' | 'actorId' | 'createdAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @ManyToOne(() => User, { deleteRule: 'cascade' })
  user!: Rel<User>;

  @Enum({ items: () => SubscriptionPlan, type: 'varchar', length: 16 })
  plan!: SubscriptionPlan;

  @Property({ type: 'timestamptz' })
  startedAt!: Date;

  /** Who made the change (the user themself; null for the row reconstructed from the account's start). */
  @Property({ type: 'uuid', nullable: true })
  actorId: string | null = null;

  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();
}
