import { randomUUID } from 'node:crypto';
import { Entity, Enum, Index, ManyToOne, OptionalProps, PrimaryKey, Property, type Rel, Unique } from '@mikro-orm/core';
import { Money } from './columns';
import { OwnedByUser } from './owner-filter';
import { User } from './user.entity';

/**
 * What moved money on the account. Realized PnL, commission and funding are
 * trading results (billing sums them); deposits, withdrawals and transfers are
 * capital the user moved (risk moves its baselines by them, billing ignores
 * them); anything else the exchange reports is kept as OTHER with its raw reason.
 */
export enum MovementKind {
  REALIZED_PNL = 'REALIZED_PNL',
  COMMISSION = 'COMMISSION',
  FUNDING_FEE = 'FUNDING_FEE',
  DEPOSIT = 'DEPOSIT',
  WITHDRAWAL = 'WITHDRAWAL',
  TRANSFER = 'TRANSFER',
  OTHER = 'OTHER',
}

/** Money the user moved: the only kinds that move risk's marks (an OTHER never does: it may be a loss we did not name). */
export const CAPITAL_KINDS: ReadonlySet<MovementKind> = new Set([MovementKind.DEPOSIT, MovementKind.WITHDRAWAL, MovementKind.TRANSFER]);

/** One money movement on a user's futures account, stored once whichever source saw it first. */
@Entity({ tableName: 'account_movements' })
@OwnedByUser()
@Unique({ properties: ['user', 'externalId'] })
@Index({ properties: ['user', 'occurredAt'] })
@Index({ properties: ['occurredAt'] })
export class AccountMovement {
  [OptionalProps]?: 'id' | 'symbol' | 'tradeId' | 'usdtValue' | 'createdAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @ManyToOne(() => User, { deleteRule: 'cascade' })
  user!: Rel<User>;

  @Enum({ items: () => MovementKind, type: 'varchar', length: 16 })
  kind!: MovementKind;

  /** The exchange's own label (ACCOUNT_UPDATE reason or income type), kept even for known kinds. */
  @Property({ type: 'varchar', length: 64 })
  rawReason!: string;

  @Property({ type: 'varchar', length: 16 })
  asset!: string;

  /** Signed as income: positive is money in (a deposit, a profit), negative money out (a fee, a loss). */
  @Money()
  amount!: string;

  /** The amount in USDT at the time it happened; null until it could be valued (an asset without a price yet). */
  @Money({ nullable: true })
  usdtValue: string | null = null;

  @Property({ type: 'varchar', length: 32, nullable: true })
  symbol: string | null = null;

  /** The fill this movement belongs to (realized PnL and commission). */
  @Property({ type: 'varchar', length: 64, nullable: true })
  tradeId: string | null = null;

  /** Identity across sources: the trade for fill movements, the exchange's transaction otherwise. */
  @Property({ type: 'varchar', length: 160 })
  externalId!: string;

  /** STREAM | RECONCILE | ENGINE */
  @Property({ type: 'varchar', length: 16 })
  source!: string;

  @Property({ type: 'timestamptz' })
  occurredAt!: Date;

  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();
}
