import { Entity, OneToOne, OptionalProps, Property, type Rel } from '@mikro-orm/core';
import { Money } from './columns';
import { OwnedByUser } from './owner-filter';
import { User } from './user.entity';

/** The simulated exchange account behind `exchange: PAPER` (the exchange's side, not our view of it). */
@Entity({ tableName: 'paper_accounts' })
@OwnedByUser()
export class PaperAccount {
  [OptionalProps]?: 'positionAmt' | 'entryPrice' | 'leverage' | 'nextOrderId' | 'updatedAt';

  @OneToOne(() => User, { primary: true, owner: true, deleteRule: 'cascade' })
  user!: Rel<User>;

  @Money()
  walletBalance!: string;

  /** Signed: positive long, negative short. One symbol (the strategy's). */
  @Money()
  positionAmt: string = '0';

  @Money()
  entryPrice: string = '0';

  @Property({ type: 'varchar', length: 32 })
  symbol!: string;

  @Property({ type: 'integer' })
  leverage: number = 1;

  @Property({ type: 'bigint' })
  nextOrderId: string = '1';

  @Property({ type: 'timestamptz', onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}
