import { randomUUID } from 'node:crypto';
import { Entity, Enum, ManyToOne, OptionalProps, PrimaryKey, Property, type Rel, Unique } from '@mikro-orm/core';
import { Money } from './columns';
import { PositionSide } from './enums';
import { OwnedByUser } from './owner-filter';
import { User } from './user.entity';

/** Our view of the user's position per symbol, kept current from the user-data stream and the reconciler. */
@Entity({ tableName: 'positions' })
@OwnedByUser()
@Unique({ properties: ['user', 'symbol'] })
export class Position {
  [OptionalProps]?: 'id' | 'side' | 'quantity' | 'entryPrice' | 'markPrice' | 'unrealizedPnl' | 'leverage' | 'openedByStrategy' | 'closePending' | 'cycleQty' | 'cycleRealizedPnl' | 'cycleCommission' | 'cycleFills' | 'cycleStartedAt' | 'lastFillAt' | 'busyUntil' | 'busyBy' | 'updatedAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @ManyToOne(() => User, { deleteRule: 'cascade' })
  user!: Rel<User>;

  @Property({ type: 'varchar', length: 32 })
  symbol!: string;

  @Enum({ items: () => PositionSide, type: 'varchar', length: 8 })
  side: PositionSide = PositionSide.FLAT;

  /** Absolute size; the side says the direction. */
  @Money()
  quantity: string = '0';

  @Money()
  entryPrice: string = '0';

  @Money({ nullable: true })
  markPrice: string | null = null;

  @Money()
  unrealizedPnl: string = '0';

  @Property({ type: 'integer' })
  leverage: number = 1;

  /** True while the open position was opened by the shared strategy (CLOSE signals target these). */
  @Property({ type: 'boolean' })
  openedByStrategy: boolean = false;

  /** A CLOSE signal reached this position and left part of it open: the next signal finishes the exit. */
  @Property({ type: 'boolean' })
  closePending: boolean = false;

  /**
   * The round trip as the fills tell it (the ledger's own count, apart from the
   * displayed quantity above, which follows the exchange's snapshots): signed
   * size, and the realized PnL and commission (USDT) since it last left flat.
   * A close is the fill that brings `cycleQty` back to zero or through it.
   */
  @Money()
  cycleQty: string = '0';

  @Money()
  cycleRealizedPnl: string = '0';

  @Money()
  cycleCommission: string = '0';

  @Property({ type: 'integer' })
  cycleFills: number = 0;

  @Property({ type: 'timestamptz', nullable: true })
  cycleStartedAt: Date | null = null;

  /** Exchange time of the newest fill counted in the cycle: a snapshot older than this is stale. */
  @Property({ type: 'timestamptz', nullable: true })
  lastFillAt: Date | null = null;

  /**
   * One signal at a time per account and symbol, on any node: the task that
   * holds this lease decides, sizes and places; another waits for it and then
   * reads the position it left. Expires by itself if its holder dies.
   */
  @Property({ type: 'timestamptz', nullable: true })
  busyUntil: Date | null = null;

  @Property({ type: 'varchar', length: 80, nullable: true })
  busyBy: string | null = null;

  @Property({ type: 'timestamptz', onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}
