import { randomUUID } from 'node:crypto';
import { Entity, Enum, Index, OptionalProps, PrimaryKey, Property, Unique } from '@mikro-orm/core';

export enum JobRunStatus { RUNNING = 'RUNNING', DONE = 'DONE', FAILED = 'FAILED' }

/**
 * One run of a periodic job for one scheduled instant: what the operator reads to
 * know a job ran, and what a job reads to know what it already did. Not user-owned.
 */
@Entity({ tableName: 'job_runs' })
@Unique({ properties: ['job', 'scheduledFor'] })
@Index({ properties: ['job', 'finishedAt'] })
export class JobRun {
  [OptionalProps]?: 'id' | 'status' | 'attempts' | 'finishedAt' | 'detail' | 'error' | 'backfilled';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @Property({ type: 'varchar', length: 64 })
  job!: string;

  /** The cron instant this run is for (a backfilled run carries a past one). */
  @Property({ type: 'timestamptz' })
  scheduledFor!: Date;

  @Property({ type: 'boolean' })
  backfilled: boolean = false;

  @Enum({ items: () => JobRunStatus, type: 'varchar', length: 16 })
  status: JobRunStatus = JobRunStatus.RUNNING;

  @Property({ type: 'integer' })
  attempts: number = 1;

  @Property({ type: 'timestamptz' })
  startedAt!: Date;

  @Property({ type: 'timestamptz', nullable: true })
  finishedAt: Date | null = null;

  /** What the run did, for operators (counts, the period it covered). */
  @Property({ type: 'json', nullable: true })
  detail: Record<string, unknown> | null = null;

  @Property({ type: 'text', nullable: true })
  error: string | null = null;
}
