import { randomUUID } from 'node:crypto';
import { Entity, Enum, Index, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { Role, SubscriptionPlan, UserStatus } from './enums';

@Entity({ tableName: 'users' })
@Index({ properties: ['status', 'subscription'] })
export class User {
  [OptionalProps]?: 'id' | 'role' | 'status' | 'statusReason' | 'subscription' | 'trialEndsAt' | 'emailVerifiedAt' | 'tokenVersion' | 'createdAt' | 'updatedAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @Property({ type: 'varchar', length: 320, unique: true })
  email!: string;

  @Property({ type: 'varchar', length: 100, lazy: true, hidden: true })
  passwordHash!: string;

  @Enum({ items: () => Role, type: 'varchar', length: 16 })
  role: Role = Role.USER;

  @Enum({ items: () => UserStatus, type: 'varchar', length: 16 })
  status: UserStatus = UserStatus.PENDING;

  @Property({ type: 'text', nullable: true })
  statusReason: string | null = null;

  @Enum({ items: () => SubscriptionPlan, type: 'varchar', length: 16 })
  subscription: SubscriptionPlan = SubscriptionPlan.FREE;

  @Property({ type: 'timestamptz', nullable: true })
  trialEndsAt: Date | null = null;

  @Property({ type: 'timestamptz', nullable: true })
  emailVerifiedAt: Date | null = null;

  /** Bumped on logout-all, password change, suspension: access tokens carrying an older version stop working. */
  @Property({ type: 'integer' })
  tokenVersion: number = 0;

  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();

  @Property({ type: 'timestamptz', onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}
