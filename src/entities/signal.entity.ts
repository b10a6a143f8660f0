import { randomUUID } from 'node:crypto';
import { Entity, Enum, Index, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { Money, Ratio } from './columns';
import { PositionSide, SignalAction, SignalSource } from './enums';

export interface StoredVote {
  witness: string;
  side: PositionSide;
  confidence: number;
  reason: string;
}

/** One decision of the shared strategy (or an admin's manual broadcast). Not user-owned. */
@Entity({ tableName: 'signals' })
@Index({ properties: ['createdAt'] })
// One strategy signal per candle, symbol and action, whichever node tries to write it
// (a flip is a CLOSE and an OPEN on the same candle).
@Index({
  name: 'signals_strategy_candle_action_unique',
  expression:
    "create unique index \"signals_strategy_candle_action_unique\" on \"signals\" (\"symbol\", \"interval\", \"candle_time\", \"action\") where \"source\" = 'STRATEGY'",
})
export class Signal {
  [OptionalProps]?: 'name' | 'id' | 'interval' | 'referencePrice' | 'votes' | 'candleTime' | 'reason' | 'createdBy' | 'idempotencyKey' | 'createdAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @Enum({ items: () => SignalSource, type: 'varchar', length: 16 })
  source!: SignalSource;

  @Enum({ items: () => SignalAction, type: 'varchar', length: 16 })
  action!: SignalAction;

  @Property({ type: 'varchar', length: 32 })
  symbol!: string;

  @Property({ type: 'varchar', length: 8, nullable: true })
  interval: string | null = null;

  @Ratio()
  strength!: string;

  @Money({ nullable: true })
  referencePrice: string | null = null;

  @Property({ type: 'json' })
  votes: StoredVote[] = [];

  /** Open time of the closed candle the strategy decided on. */
  @Property({ type: 'timestamptz', nullable: true })
  candleTime: Date | null = null;

  @Property({ type: 'text', nullable: true })
  reason: string | null = null;

  /** The admin who broadcast a manual signal. */
  @Property({ type: 'uuid', nullable: true })
  createdBy: string | null = null;

  /** A manual broadcast's idempotency key: the same key again returns this signal's report instead of trading again. */
  @Property({ type: 'varchar', length: 128, nullable: true, unique: true })
  idempotencyKey: string | null = null;

  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();
}
