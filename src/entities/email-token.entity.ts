import { randomUUID } from 'node:crypto';
import { Entity, Enum, Index, ManyToOne, OptionalProps, PrimaryKey, Property, type Rel } from '@mikro-orm/core';
import { EmailTokenPurpose } from './enums';
import { OwnedByUser } from './owner-filter';
import { User } from './user.entity';

/** A single-use token mailed to the user; only its hash is stored. */
@Entity({ tableName: 'email_tokens' })
@OwnedByUser()
@Index({ properties: ['user', 'purpose'] })
export class EmailToken {
  [OptionalProps]?: 'id' | 'usedAt' | 'newEmail' | 'sessionId' | 'createdAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @ManyToOne(() => User, { deleteRule: 'cascade' })
  user!: Rel<User>;

  @Enum({ items: () => EmailTokenPurpose, type: 'varchar', length: 32 })
  purpose!: EmailTokenPurpose;

  @Property({ type: 'varchar', length: 64, unique: true })
  tokenHash!: string;

  @Property({ type: 'timestamptz' })
  expiresAt!: Date;

  @Property({ type: 'timestamptz', nullable: true })
  usedAt: Date | null = null;

  /** CHANGE_EMAIL: the address being proven. Not unique: an unconfirmed address is nobody's yet. */
  @Property({ type: 'varchar', length: 320, nullable: true })
  newEmail: string | null = null;

  /** CHANGE_EMAIL: the session (refresh family) that asked; it survives the change, the others end. */
  @Property({ type: 'uuid', nullable: true })
  sessionId: string | null = null;

  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();
}
