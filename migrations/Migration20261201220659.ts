import { Migration } from '@mikro-orm/migrations';

export class Migration20261201220659 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "email_tokens" drop constraint if exists "email_tokens_purpose_check";`);

    this.addSql(`alter table "sessions" add column "token_version" int not null default 0;`);

    this.addSql(`create index "orders_created_at_index" on "orders" ("created_at");`);

    this.addSql(`alter table "email_tokens" add column "new_email" varchar(320) null, add column "session_id" uuid null;`);
    this.addSql(`alter table "email_tokens" add constraint "email_tokens_purpose_check" check("purpose" in ('VERIFY_EMAIL', 'RESET_PASSWORD', 'CHANGE_EMAIL'));`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "email_tokens" drop constraint if exists "email_tokens_purpose_check";`);
    // Reset and email-change tokens cannot exist under the old check: they are single-use links, safe to drop.
    this.addSql(`delete from "email_tokens" where "purpose" <> 'VERIFY_EMAIL';`);

    this.addSql(`alter table "email_tokens" drop column "new_email", drop column "session_id";`);

    this.addSql(`alter table "email_tokens" add constraint "email_tokens_purpose_check" check("purpose" in ('VERIFY_EMAIL'));`);

    this.addSql(`drop index "orders_created_at_index";`);

    this.addSql(`alter table "sessions" drop column "token_version";`);
  }

}
