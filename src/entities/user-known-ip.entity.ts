import { randomUUID } from 'node:crypto';
import { Entity, ManyToOne, OptionalProps, PrimaryKey, Property, Unique, type Rel } from '@mikro-orm/core';
import { OwnedByUser } from './owner-filter';
import { User } from './user.entity';

/**
 * A network a user has signed in from successfully: an IPv4 address or an
 * IPv6 /64. Sign-ins from it are not held by the per-account lockout that
 * strangers' failures trigger (docs/decisions.md, "Sign-in abuse").
 */
@Entity({ tableName: 'user_known_ips' })
@OwnedByUser()
@Unique({ properties: ['user', 'network'] })
export class UserKnownIp {
  [OptionalProps]?: 'id' | 'firstSeenAt' | 'lastSuccessAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @ManyToOne(() => User, { deleteRule: 'cascade' })
  user!: Rel<User>;

  @Property({ type: 'varchar', length: 64 })
  network!: string;

  @Property({ type: 'timestamptz' })
  firstSeenAt: Date = new Date();

  @Property({ type: 'timestamptz' })
  lastSuccessAt: Date = new Date();
}
