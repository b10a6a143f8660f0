import { Migration } from '@mikro-orm/migrations';

export class Migration20261201222000 extends Migration {

  override async up(): Promise<void> {

    this.addSql(`create table "account_movements" ("id" uuid not null, "user_id" uuid not null, "kind" text check ("kind" in ('REALIZED_PNL', 'COMMISSION', 'FUNDING_FEE', 'DEPOSIT', 'WITHDRAWAL', 'TRANSFER', 'OTHER')) not null, "raw_reason" varchar(64) not null, "asset" varchar(16) not null, "amount" numeric(28,10) not null, "usdt_value" numeric(28,10) null, "symbol" varchar(32) null, "trade_id" varchar(64) null, "external_id" varchar(160) not null, "source" varchar(16) not null, "occurred_at" timestamptz not null, "created_at" timestamptz not null, constraint "account_movements_pkey" primary key ("id"));`);
    this.addSql(`create index "account_movements_occurred_at_index" on "account_movements" ("occurred_at");`);
    this.addSql(`create index "account_movements_user_id_occurred_at_index" on "account_movements" ("user_id", "occurred_at");`);
    this.addSql(`alter table "account_movements" add constraint "account_movements_user_id_external_id_unique" unique ("user_id", "external_id");`);

    this.addSql(`alter table "account_movements" add constraint "account_movements_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "positions" add column "close_pending" boolean not null default false, add column "cycle_qty" numeric(28,10) not null default '0', add column "cycle_realized_pnl" numeric(28,10) not null default '0', add column "cycle_commission" numeric(28,10) not null default '0', add column "cycle_fills" int not null default 0, add column "cycle_started_at" timestamptz null, add column "last_fill_at" timestamptz null;`);
    // The fill-counted round trip starts from the positions as they stand.
    this.addSql(`update "positions" set "cycle_qty" = case "side" when 'LONG' then "quantity" when 'SHORT' then -"quantity" else 0 end;`);

    this.addSql(`alter table "orders" add column "unknown_since" timestamptz null;`);
    this.addSql(`create index "orders_user_id_exchange_order_id_index" on "orders" ("user_id", "exchange_order_id");`);

  }

  override async down(): Promise<void> {

    this.addSql(`drop table if exists "account_movements" cascade;`);

    this.addSql(`drop index "orders_user_id_exchange_order_id_index";`);
    this.addSql(`alter table "orders" drop column "unknown_since";`);

    this.addSql(`alter table "positions" drop column "close_pending", drop column "cycle_qty", drop column "cycle_realized_pnl", drop column "cycle_commission", drop column "cycle_fills", drop column "cycle_started_at", drop column "last_fill_at";`);

  }

}
