import { Migration } from '@mikro-orm/migrations';

export class Migration20261207143141 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "auth_locks" ("key_hash" char(64) not null, "counter" varchar(40) not null, "locked_until" timestamptz not null, constraint "auth_locks_pkey" primary key ("key_hash"));`);
    this.addSql(`create index "auth_locks_locked_until_index" on "auth_locks" ("locked_until");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "auth_locks" cascade;`);
  }

}
