import { Entity, OneToOne, OptionalProps, Property, type Rel } from '@mikro-orm/core';
import { Signal } from './signal.entity';

/** The summary of one signal's fan-out. */
@Entity({ tableName: 'execution_reports' })
export class ExecutionReportRecord {
  [OptionalProps]?: 'total' | 'placed' | 'skipped' | 'failed' | 'durationMs' | 'createdAt';

  @OneToOne(() => Signal, { primary: true, owner: true, deleteRule: 'cascade' })
  signal!: Rel<Signal>;

  @Property({ type: 'integer' })
  total: number = 0;

  @Property({ type: 'integer' })
  placed: number = 0;

  @Property({ type: 'integer' })
  skipped: number = 0;

  @Property({ type: 'integer' })
  failed: number = 0;

  @Property({ type: 'integer' })
  durationMs: number = 0;

  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();
}
