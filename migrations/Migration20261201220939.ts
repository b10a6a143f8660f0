import { Migration } from '@mikro-orm/migrations';

export class Migration20261201220939 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "deployment" ("singleton" smallint not null default 1, "id" uuid not null, "created_at" timestamptz not null, constraint "deployment_pkey" primary key ("singleton"), constraint deployment_singleton check (singleton = 1));`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "deployment" cascade;`);

  }

}
