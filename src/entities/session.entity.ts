import { randomUUID } from 'node:crypto';
import { Entity, Index, ManyToOne, OptionalProps, PrimaryKey, Property, type Rel } from '@mikro-orm/core';
import { OwnedByUser } from './owner-filter';
import { User } from './user.entity';

/** One refresh token. Tokens of one sign-in form a family; reuse of a rotated one revokes the family. */
@Entity({ tableName: 'sessions' })
@OwnedByUser()
@Index({ properties: ['familyId'] })
@Index({ properties: ['user', 'revokedAt'] })
export class Session {
  [OptionalProps]?: 'id' | 'rotatedAt' | 'revokedAt' | 'ip' | 'tokenVersion' | 'createdAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @ManyToOne(() => User, { deleteRule: 'cascade' })
  user!: Rel<User>;

  @Property({ type: 'uuid' })
  familyId!: string;

  /** SHA-256 of the opaque refresh token; the token itself is never stored. */
  @Property({ type: 'varchar', length: 64, unique: true })
  tokenHash!: string;

  @Property({ type: 'timestamptz' })
  expiresAt!: Date;

  @Property({ type: 'timestamptz', nullable: true })
  rotatedAt: Date | null = null;

  @Property({ type: 'timestamptz', nullable: true })
  revokedAt: Date | null = null;

  @Property({ type: 'varchar', length: 64, nullable: true })
  ip: string | null = null;

  /**
   * The user's token version when this session was issued. A sign-in that checked the old password
   * while a reset (or suspension) committed carries the old version, so refresh refuses it.
   */
  @Property({ type: 'integer', default: 0 })
  tokenVersion: number = 0;

  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();
}
