import { randomUUID } from 'node:crypto';
import { Entity, OptionalProps, PrimaryKey, Property, Unique } from '@mikro-orm/core';

/**
 * The platform's billing calendar: a UTC day whose settlement ran (DAY) or a
 * month whose invoices were issued (MONTH). The daily job catches up from the
 * last DAY here, whatever the scheduler's own backfill window. Not user-owned.
 */
@Entity({ tableName: 'billing_closings' })
@Unique({ properties: ['kind', 'periodStart'] })
export class BillingClosing {
  [OptionalProps]?: 'id' | 'final' | 'runs' | 'detail' | 'updatedAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  /** DAY | MONTH */
  @Property({ type: 'varchar', length: 8 })
  kind!: string;

  @Property({ type: 'timestamptz' })
  periodStart!: Date;

  /** False while only part of the day was settled (an admin's settlement of today). */
  @Property({ type: 'boolean' })
  final: boolean = true;

  @Property({ type: 'integer' })
  runs: number = 1;

  /** What the last run did (users settled, deferred, invoices issued). */
  @Property({ type: 'json', nullable: true })
  detail: Record<string, unknown> | null = null;

  @Property({ type: 'timestamptz' })
  updatedAt: Date = new Date();
}
