import { randomUUID } from 'node:crypto';
import { Entity, Index, ManyToOne, OptionalProps, PrimaryKey, Property, type Rel } from '@mikro-orm/core';
import { OwnedByUser } from './owner-filter';
import { User } from './user.entity';

@Entity({ tableName: 'risk_events' })
@OwnedByUser()
@Index({ properties: ['user', 'createdAt'] })
export class RiskEvent {
  [OptionalProps]?: 'id' | 'kind' | 'detail' | 'data' | 'actorId' | 'createdAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @ManyToOne(() => User, { deleteRule: 'cascade' })
  user!: Rel<User>;

  /** LOCKED | LIFTED (automatic, at the next period) | UNLOCKED (by an admin) | LIMITS_CHANGED */
  @Property({ type: 'varchar', length: 32 })
  type!: string;

  @Property({ type: 'varchar', length: 32, nullable: true })
  kind: string | null = null;

  @Property({ type: 'text', nullable: true })
  detail: string | null = null;

  @Property({ type: 'json', nullable: true })
  data: Record<string, unknown> | null = null;

  @Property({ type: 'uuid', nullable: true })
  actorId: string | null = null;

  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();
}
