import { Migration } from '@mikro-orm/migrations';

export class Migration20261201232151 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "billing_closings" ("id" uuid not null, "kind" varchar(8) not null, "period_start" timestamptz not null, "final" boolean not null default true, "runs" int not null default 1, "detail" jsonb null, "updated_at" timestamptz not null, constraint "billing_closings_pkey" primary key ("id"));`);
    this.addSql(`alter table "billing_closings" add constraint "billing_closings_kind_period_start_unique" unique ("kind", "period_start");`);

    this.addSql(`create table "profit_deferrals" ("id" uuid not null, "user_id" uuid not null, "day" timestamptz not null, "reason" varchar(200) not null, "unvalued" int not null default 0, "first_seen_at" timestamptz not null, "last_seen_at" timestamptz not null, constraint "profit_deferrals_pkey" primary key ("id"));`);
    this.addSql(`alter table "profit_deferrals" add constraint "profit_deferrals_user_id_day_unique" unique ("user_id", "day");`);

    this.addSql(`create table "user_plan_history" ("id" uuid not null, "user_id" uuid not null, "plan" text check ("plan" in ('FREE', 'BASIC', 'PRO')) not null, "started_at" timestamptz not null, "actor_id" uuid null, "created_at" timestamptz not null, constraint "user_plan_history_pkey" primary key ("id"));`);
    this.addSql(`create index "user_plan_history_user_id_started_at_index" on "user_plan_history" ("user_id", "started_at");`);

    this.addSql(`alter table "profit_deferrals" add constraint "profit_deferrals_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "user_plan_history" add constraint "user_plan_history_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);

    // Rows written before billing get a due date 14 days after their period and their creation as last update.
    this.addSql(`alter table "invoices" add column "due_at" timestamptz null, add column "paid_at" timestamptz null, add column "payment_reference" varchar(200) null, add column "payment_source" varchar(32) null, add column "voided_at" timestamptz null, add column "void_reason" text null, add column "updated_at" timestamptz null;`);
    this.addSql(`update "invoices" set "due_at" = "period_end" + interval '14 days', "updated_at" = "created_at";`);
    this.addSql(`alter table "invoices" alter column "due_at" set not null, alter column "updated_at" set not null;`);
    this.addSql(`create index "invoices_created_at_index" on "invoices" ("created_at");`);
    this.addSql(`create index "invoices_status_due_at_index" on "invoices" ("status", "due_at");`);

    this.addSql(`alter table "user_profits" add column "final" boolean not null default true, add column "movement_count" int not null default 0, add column "cumulative_gross" numeric(28,10) null, add column "high_water_mark" numeric(28,10) null, add column "high_water_mark_before" numeric(28,10) null, add column "invoice_id" uuid null, add column "updated_at" timestamptz null;`);
    this.addSql(`update "user_profits" set "updated_at" = "created_at";`);
    this.addSql(`alter table "user_profits" alter column "updated_at" set not null;`);
    this.addSql(`alter table "user_profits" add constraint "user_profits_invoice_id_foreign" foreign key ("invoice_id") references "invoices" ("id") on update cascade on delete set null;`);
    this.addSql(`create index "user_profits_period_type_period_start_index" on "user_profits" ("period_type", "period_start");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "billing_closings" cascade;`);

    this.addSql(`drop table if exists "profit_deferrals" cascade;`);

    this.addSql(`drop table if exists "user_plan_history" cascade;`);

    this.addSql(`alter table "user_profits" drop constraint "user_profits_invoice_id_foreign";`);

    this.addSql(`drop index "invoices_created_at_index";`);
    this.addSql(`drop index "invoices_status_due_at_index";`);
    this.addSql(`alter table "invoices" drop column "due_at", drop column "paid_at", drop column "payment_reference", drop column "payment_source", drop column "voided_at", drop column "void_reason", drop column "updated_at";`);

    this.addSql(`drop index "user_profits_period_type_period_start_index";`);
    this.addSql(`alter table "user_profits" drop column "final", drop column "movement_count", drop column "cumulative_gross", drop column "high_water_mark", drop column "high_water_mark_before", drop column "invoice_id", drop column "updated_at";`);
  }

}
