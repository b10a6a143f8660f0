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
  [OptionalProps]?: 'id' | 'usedAt' | 'createdAt';

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

  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();
}
