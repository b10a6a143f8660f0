import { randomUUID } from 'node:crypto';
import { Entity, Enum, OneToOne, OptionalProps, PrimaryKey, Property, type Rel } from '@mikro-orm/core';
import { Ratio } from './columns';
import { Exchange } from './enums';
import { OwnedByUser } from './owner-filter';
import { User } from './user.entity';

export interface StoredKeyPermissions {
  canRead: boolean;
  canTrade: boolean;
  canWithdraw: boolean;
  canTransfer: boolean;
  ipRestricted: boolean;
}

/** A user's exchange binding. Key and secret are AES-256-GCM ciphertexts bound to the user id. */
@Entity({ tableName: 'user_exchange_configs' })
@OwnedByUser()
export class UserExchangeConfig {
  [OptionalProps]?: 'id' | 'exchange' | 'apiKeyEnc' | 'apiSecretEnc' | 'apiKeyMasked' | 'testnet' | 'leverage' | 'maxPositionPct' | 'isValid' | 'lastVerifiedAt' | 'lastVerifyError' | 'permissions' | 'createdAt' | 'updatedAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @OneToOne(() => User, { owner: true, unique: true, deleteRule: 'cascade' })
  user!: Rel<User>;

  @Enum({ items: () => Exchange, type: 'varchar', length: 16 })
  exchange: Exchange = Exchange.BINANCE;

  @Property({ type: 'text', nullable: true, hidden: true, lazy: true })
  apiKeyEnc: string | null = null;

  @Property({ type: 'text', nullable: true, hidden: true, lazy: true })
  apiSecretEnc: string | null = null;

  /** First and last four characters of the key, for display. */
  @Property({ type: 'varchar', length: 16 })
  apiKeyMasked: string = '';

  @Property({ type: 'boolean' })
  testnet: boolean = false;

  @Property({ type: 'integer' })
  leverage: number = 1;

  @Ratio()
  maxPositionPct: string = '0.05';

  @Property({ type: 'boolean' })
  isValid: boolean = false;

  @Property({ type: 'timestamptz', nullable: true })
  lastVerifiedAt: Date | null = null;

  @Property({ type: 'text', nullable: true })
  lastVerifyError: string | null = null;

  @Property({ type: 'json', nullable: true })
  permissions: StoredKeyPermissions | null = null;

  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();

  @Property({ type: 'timestamptz', onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}
