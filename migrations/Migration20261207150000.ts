import { Migration } from '@mikro-orm/migrations';

export class Migration20261207150000 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "ledger_cursors" ("user_id" uuid not null, "feed" varchar(48) not null, "synced_through" timestamptz not null, "updated_at" timestamptz not null, constraint "ledger_cursors_pkey" primary key ("user_id", "feed"));`);
    this.addSql(`alter table "ledger_cursors" add constraint "ledger_cursors_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);
    // Existing accounts resume where the reconciler used to: the newest row stored of each history.
    this.addSql(`insert into "ledger_cursors" ("user_id", "feed", "synced_through", "updated_at") select "user_id", 'fills:' || "symbol", max("executed_at"), now() from "trades" group by "user_id", "symbol";`);
    this.addSql(`insert into "ledger_cursors" ("user_id", "feed", "synced_through", "updated_at") select "user_id", 'income', max("occurred_at"), now() from "account_movements" group by "user_id";`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "ledger_cursors" cascade;`);
  }

}
