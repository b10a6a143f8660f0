import { Migration } from '@mikro-orm/migrations';

export class Migration20261207160000 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "ledger_journal" ("seq" bigserial primary key, "user_id" uuid not null, "type" varchar(32) not null, "payload" jsonb not null, "created_at" timestamptz not null, "risk_judged_at" timestamptz null);`);
    this.addSql(`create index "ledger_journal_user_id_seq_index" on "ledger_journal" ("user_id", "seq");`);
    this.addSql(`create index "ledger_journal_unjudged_index" on "ledger_journal" ("seq") where "risk_judged_at" is null;`);
    this.addSql(`alter table "ledger_journal" add constraint "ledger_journal_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "ledger_journal" cascade;`);
  }

}
