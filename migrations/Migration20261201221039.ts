import { Migration } from '@mikro-orm/migrations';

export class Migration20261201221039 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "user_known_ips" ("id" uuid not null, "user_id" uuid not null, "network" varchar(64) not null, "first_seen_at" timestamptz not null, "last_success_at" timestamptz not null, constraint "user_known_ips_pkey" primary key ("id"));`);
    this.addSql(`alter table "user_known_ips" add constraint "user_known_ips_user_id_network_unique" unique ("user_id", "network");`);

    this.addSql(`alter table "user_known_ips" add constraint "user_known_ips_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);

    // Emails are now compared in NFKC: bring stored ones to the same form, except where two
    // accounts would share one (left as they are, for an operator to settle).
    this.addSql(`do $$ begin
      if current_setting('server_encoding') = 'UTF8' then
        update "users" u set "email" = lower(normalize(u."email", NFKC))
        where u."email" <> lower(normalize(u."email", NFKC))
          and (select count(*) from "users" o where lower(normalize(o."email", NFKC)) = lower(normalize(u."email", NFKC))) = 1;
      end if;
    end $$;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "user_known_ips" cascade;`);
    // The email normalisation is not undone: the original forms are not kept, and NFKC ones stay valid.
  }

}
