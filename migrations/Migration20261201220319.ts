import { Migration } from '@mikro-orm/migrations';

export class Migration20261201220319 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "job_runs" ("id" uuid not null, "job" varchar(64) not null, "scheduled_for" timestamptz not null, "backfilled" boolean not null default false, "status" text check ("status" in ('RUNNING', 'DONE', 'FAILED')) not null default 'RUNNING', "attempts" int not null default 1, "started_at" timestamptz not null, "finished_at" timestamptz null, "detail" jsonb null, "error" text null, constraint "job_runs_pkey" primary key ("id"));`);
    this.addSql(`create index "job_runs_job_finished_at_index" on "job_runs" ("job", "finished_at");`);
    this.addSql(`alter table "job_runs" add constraint "job_runs_job_scheduled_for_unique" unique ("job", "scheduled_for");`);

  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "job_runs" cascade;`);

  }

}
