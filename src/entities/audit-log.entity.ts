import { randomUUID } from 'node:crypto';
import { Entity, Index, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';

/** Append-only record of sensitive actions. Never holds a secret, token or password. */
@Entity({ tableName: 'audit_logs' })
@Index({ properties: ['userId', 'createdAt'] })
@Index({ properties: ['createdAt'] })
export class AuditLog {
  [OptionalProps]?: 'id' | 'userId' | 'actorId' | 'detail' | 'ip' | 'createdAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  /** The account the action concerns. */
  @Property({ type: 'uuid', nullable: true })
  userId: string | null = null;

  /** Who did it (the user themself, an admin, or null for the system). */
  @Property({ type: 'uuid', nullable: true })
  actorId: string | null = null;

  @Property({ type: 'varchar', length: 64 })
  action!: string;

  @Property({ type: 'text', nullable: true })
  detail: string | null = null;

  @Property({ type: 'varchar', length: 64, nullable: true })
  ip: string | null = null;

  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();
}
