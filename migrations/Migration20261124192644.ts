import { Migration } from '@mikro-orm/migrations';

export class Migration20261124192644 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "audit_logs" ("id" uuid not null, "user_id" uuid null, "actor_id" uuid null, "action" varchar(64) not null, "detail" text null, "ip" varchar(64) null, "created_at" timestamptz not null, constraint "audit_logs_pkey" primary key ("id"));`);
    this.addSql(`create index "audit_logs_created_at_index" on "audit_logs" ("created_at");`);
    this.addSql(`create index "audit_logs_user_id_created_at_index" on "audit_logs" ("user_id", "created_at");`);

    this.addSql(`create table "signals" ("id" uuid not null, "source" text check ("source" in ('STRATEGY', 'MANUAL')) not null, "action" text check ("action" in ('OPEN_LONG', 'OPEN_SHORT', 'CLOSE')) not null, "symbol" varchar(32) not null, "interval" varchar(8) null, "strength" numeric(12,8) not null, "reference_price" numeric(28,10) null, "votes" jsonb not null, "candle_time" timestamptz null, "reason" text null, "created_by" uuid null, "created_at" timestamptz not null, constraint "signals_pkey" primary key ("id"));`);
    this.addSql(`create unique index "signals_strategy_candle_unique" on "signals" ("symbol", "interval", "candle_time") where "source" = 'STRATEGY';`);
    this.addSql(`create index "signals_created_at_index" on "signals" ("created_at");`);

    this.addSql(`create table "execution_reports" ("signal_id" uuid not null, "total" int not null default 0, "placed" int not null default 0, "skipped" int not null default 0, "failed" int not null default 0, "duration_ms" int not null default 0, "created_at" timestamptz not null, constraint "execution_reports_pkey" primary key ("signal_id"));`);

    this.addSql(`create table "users" ("id" uuid not null, "email" varchar(320) not null, "password_hash" varchar(100) not null, "role" text check ("role" in ('USER', 'ADMIN')) not null default 'USER', "status" text check ("status" in ('PENDING', 'ACTIVE', 'SUSPENDED', 'BANNED')) not null default 'PENDING', "status_reason" text null, "subscription" text check ("subscription" in ('FREE', 'BASIC', 'PRO')) not null default 'FREE', "trial_ends_at" timestamptz null, "email_verified_at" timestamptz null, "token_version" int not null default 0, "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint "users_pkey" primary key ("id"));`);
    this.addSql(`alter table "users" add constraint "users_email_unique" unique ("email");`);
    this.addSql(`create index "users_status_subscription_index" on "users" ("status", "subscription");`);

    this.addSql(`create table "sessions" ("id" uuid not null, "user_id" uuid not null, "family_id" uuid not null, "token_hash" varchar(64) not null, "expires_at" timestamptz not null, "rotated_at" timestamptz null, "revoked_at" timestamptz null, "ip" varchar(64) null, "created_at" timestamptz not null, constraint "sessions_pkey" primary key ("id"));`);
    this.addSql(`alter table "sessions" add constraint "sessions_token_hash_unique" unique ("token_hash");`);
    this.addSql(`create index "sessions_user_id_revoked_at_index" on "sessions" ("user_id", "revoked_at");`);
    this.addSql(`create index "sessions_family_id_index" on "sessions" ("family_id");`);

    this.addSql(`create table "risk_events" ("id" uuid not null, "user_id" uuid not null, "type" varchar(32) not null, "kind" varchar(32) null, "detail" text null, "data" jsonb null, "actor_id" uuid null, "created_at" timestamptz not null, constraint "risk_events_pkey" primary key ("id"));`);
    this.addSql(`create index "risk_events_user_id_created_at_index" on "risk_events" ("user_id", "created_at");`);

    this.addSql(`create table "positions" ("id" uuid not null, "user_id" uuid not null, "symbol" varchar(32) not null, "side" text check ("side" in ('LONG', 'SHORT', 'FLAT')) not null default 'FLAT', "quantity" numeric(28,10) not null default '0', "entry_price" numeric(28,10) not null default '0', "mark_price" numeric(28,10) null, "unrealized_pnl" numeric(28,10) not null default '0', "leverage" int not null default 1, "opened_by_strategy" boolean not null default false, "updated_at" timestamptz not null, constraint "positions_pkey" primary key ("id"));`);
    this.addSql(`alter table "positions" add constraint "positions_user_id_symbol_unique" unique ("user_id", "symbol");`);

    this.addSql(`create table "paper_fills" ("id" uuid not null, "user_id" uuid not null, "order_id" bigint not null, "client_order_id" varchar(36) not null, "symbol" varchar(32) not null, "side" text check ("side" in ('BUY', 'SELL')) not null, "quantity" numeric(28,10) not null, "price" numeric(28,10) not null, "realized_pnl" numeric(28,10) not null default '0', "commission" numeric(28,10) not null default '0', "reduce_only" boolean not null default false, "created_at" timestamptz not null, constraint "paper_fills_pkey" primary key ("id"));`);
    this.addSql(`create index "paper_fills_user_id_created_at_index" on "paper_fills" ("user_id", "created_at");`);
    this.addSql(`alter table "paper_fills" add constraint "paper_fills_user_id_client_order_id_unique" unique ("user_id", "client_order_id");`);

    this.addSql(`create table "paper_accounts" ("user_id" uuid not null, "wallet_balance" numeric(28,10) not null, "position_amt" numeric(28,10) not null default '0', "entry_price" numeric(28,10) not null default '0', "symbol" varchar(32) not null, "leverage" int not null default 1, "next_order_id" bigint not null default '1', "updated_at" timestamptz not null, constraint "paper_accounts_pkey" primary key ("user_id"));`);

    this.addSql(`create table "orders" ("id" uuid not null, "user_id" uuid not null, "signal_id" uuid null, "client_order_id" varchar(36) not null, "exchange_order_id" varchar(32) null, "origin" text check ("origin" in ('STRATEGY', 'MANUAL', 'EXTERNAL')) not null default 'STRATEGY', "symbol" varchar(32) not null, "side" text check ("side" in ('BUY', 'SELL')) not null, "type" varchar(32) not null default 'MARKET', "quantity" numeric(28,10) not null, "avg_price" numeric(28,10) null, "executed_qty" numeric(28,10) not null default '0', "reduce_only" boolean not null default false, "status" text check ("status" in ('PENDING', 'NEW', 'PARTIALLY_FILLED', 'FILLED', 'CANCELED', 'REJECTED', 'EXPIRED', 'FAILED')) not null default 'PENDING', "error" text null, "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint "orders_pkey" primary key ("id"));`);
    this.addSql(`alter table "orders" add constraint "orders_client_order_id_unique" unique ("client_order_id");`);
    this.addSql(`create index "orders_signal_id_index" on "orders" ("signal_id");`);
    this.addSql(`create index "orders_status_index" on "orders" ("status");`);
    this.addSql(`create index "orders_user_id_created_at_index" on "orders" ("user_id", "created_at");`);

    this.addSql(`create table "trades" ("id" uuid not null, "user_id" uuid not null, "order_id" uuid null, "exchange_trade_id" varchar(64) not null, "symbol" varchar(32) not null, "side" text check ("side" in ('BUY', 'SELL')) not null, "price" numeric(28,10) not null, "quantity" numeric(28,10) not null, "realized_pnl" numeric(28,10) not null default '0', "commission" numeric(28,10) not null default '0', "commission_asset" varchar(16) not null default 'USDT', "executed_at" timestamptz not null, "created_at" timestamptz not null, constraint "trades_pkey" primary key ("id"));`);
    this.addSql(`create index "trades_user_id_executed_at_index" on "trades" ("user_id", "executed_at");`);
    this.addSql(`alter table "trades" add constraint "trades_user_id_symbol_exchange_trade_id_unique" unique ("user_id", "symbol", "exchange_trade_id");`);

    this.addSql(`create table "invoices" ("id" uuid not null, "user_id" uuid not null, "period_start" timestamptz not null, "period_end" timestamptz not null, "plan" text check ("plan" in ('FREE', 'BASIC', 'PRO')) not null, "subscription_fee" numeric(28,10) not null default '0', "profit_share_fee" numeric(28,10) not null default '0', "total" numeric(28,10) not null default '0', "status" text check ("status" in ('OPEN', 'PAID', 'VOID')) not null default 'OPEN', "lines" jsonb null, "created_at" timestamptz not null, constraint "invoices_pkey" primary key ("id"));`);
    this.addSql(`alter table "invoices" add constraint "invoices_user_id_period_start_unique" unique ("user_id", "period_start");`);

    this.addSql(`create table "email_tokens" ("id" uuid not null, "user_id" uuid not null, "purpose" text check ("purpose" in ('VERIFY_EMAIL')) not null, "token_hash" varchar(64) not null, "expires_at" timestamptz not null, "used_at" timestamptz null, "created_at" timestamptz not null, constraint "email_tokens_pkey" primary key ("id"));`);
    this.addSql(`alter table "email_tokens" add constraint "email_tokens_token_hash_unique" unique ("token_hash");`);
    this.addSql(`create index "email_tokens_user_id_purpose_index" on "email_tokens" ("user_id", "purpose");`);

    this.addSql(`create table "balance_snapshots" ("id" uuid not null, "user_id" uuid not null, "equity" numeric(28,10) not null, "wallet_balance" numeric(28,10) not null, "available_balance" numeric(28,10) not null, "unrealized_pnl" numeric(28,10) not null default '0', "source" varchar(16) not null default 'RECONCILE', "taken_at" timestamptz not null, constraint "balance_snapshots_pkey" primary key ("id"));`);
    this.addSql(`create index "balance_snapshots_user_id_taken_at_index" on "balance_snapshots" ("user_id", "taken_at");`);

    this.addSql(`create table "user_exchange_configs" ("id" uuid not null, "user_id" uuid not null, "exchange" text check ("exchange" in ('BINANCE', 'PAPER')) not null default 'BINANCE', "api_key_enc" text null, "api_secret_enc" text null, "api_key_masked" varchar(16) not null default '', "testnet" boolean not null default false, "leverage" int not null default 1, "max_position_pct" numeric(12,8) not null default '0.05', "is_valid" boolean not null default false, "last_verified_at" timestamptz null, "last_verify_error" text null, "permissions" jsonb null, "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint "user_exchange_configs_pkey" primary key ("id"));`);
    this.addSql(`alter table "user_exchange_configs" add constraint "user_exchange_configs_user_id_unique" unique ("user_id");`);

    this.addSql(`create table "user_executions" ("id" uuid not null, "signal_id" uuid not null, "user_id" uuid not null, "status" text check ("status" in ('PLACED', 'SKIPPED', 'FAILED')) not null, "reason" text null, "order_id" uuid null, "dispatch_rank" int null, "latency_ms" int not null default 0, "fill_price" numeric(28,10) null, "slippage" numeric(28,10) null, "created_at" timestamptz not null, constraint "user_executions_pkey" primary key ("id"));`);
    this.addSql(`create index "user_executions_user_id_created_at_index" on "user_executions" ("user_id", "created_at");`);
    this.addSql(`alter table "user_executions" add constraint "user_executions_signal_id_user_id_unique" unique ("signal_id", "user_id");`);

    this.addSql(`create table "user_profits" ("id" uuid not null, "user_id" uuid not null, "period_type" text check ("period_type" in ('DAILY', 'WEEKLY', 'MONTHLY')) not null, "period_start" timestamptz not null, "period_end" timestamptz not null, "plan" text check ("plan" in ('FREE', 'BASIC', 'PRO')) not null, "starting_balance" numeric(28,10) not null default '0', "ending_balance" numeric(28,10) not null default '0', "gross_profit" numeric(28,10) not null default '0', "fee_rate" numeric(12,8) not null default '0', "platform_fee" numeric(28,10) not null default '0', "net_profit" numeric(28,10) not null default '0', "calculation" jsonb null, "created_at" timestamptz not null, constraint "user_profits_pkey" primary key ("id"));`);
    this.addSql(`create index "user_profits_user_id_period_start_index" on "user_profits" ("user_id", "period_start");`);
    this.addSql(`alter table "user_profits" add constraint "user_profits_user_id_period_type_period_start_unique" unique ("user_id", "period_type", "period_start");`);

    this.addSql(`create table "user_risk_states" ("user_id" uuid not null, "equity_high_water" numeric(28,10) null, "current_drawdown" numeric(12,8) not null default '0', "day_start_equity" numeric(28,10) null, "day_start" timestamptz null, "week_start_equity" numeric(28,10) null, "week_start" timestamptz null, "daily_loss" numeric(28,10) not null default '0', "weekly_loss" numeric(28,10) not null default '0', "consecutive_losses" int not null default 0, "is_locked" boolean not null default false, "lock_kind" varchar(32) null, "locked_reason" text null, "locked_at" timestamptz null, "max_drawdown" numeric(12,8) null, "max_daily_loss_pct" numeric(12,8) null, "max_weekly_loss_pct" numeric(12,8) null, "max_consecutive_losses" int null, "updated_at" timestamptz not null, constraint "user_risk_states_pkey" primary key ("user_id"));`);

    this.addSql(`alter table "execution_reports" add constraint "execution_reports_signal_id_foreign" foreign key ("signal_id") references "signals" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "sessions" add constraint "sessions_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "risk_events" add constraint "risk_events_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "positions" add constraint "positions_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "paper_fills" add constraint "paper_fills_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "paper_accounts" add constraint "paper_accounts_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "orders" add constraint "orders_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "orders" add constraint "orders_signal_id_foreign" foreign key ("signal_id") references "signals" ("id") on update cascade on delete set null;`);

    this.addSql(`alter table "trades" add constraint "trades_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "trades" add constraint "trades_order_id_foreign" foreign key ("order_id") references "orders" ("id") on update cascade on delete set null;`);

    this.addSql(`alter table "invoices" add constraint "invoices_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "email_tokens" add constraint "email_tokens_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "balance_snapshots" add constraint "balance_snapshots_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "user_exchange_configs" add constraint "user_exchange_configs_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "user_executions" add constraint "user_executions_signal_id_foreign" foreign key ("signal_id") references "signals" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "user_executions" add constraint "user_executions_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "user_executions" add constraint "user_executions_order_id_foreign" foreign key ("order_id") references "orders" ("id") on update cascade on delete set null;`);

    this.addSql(`alter table "user_profits" add constraint "user_profits_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "user_risk_states" add constraint "user_risk_states_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "user_risk_states" cascade;`);
    this.addSql(`drop table if exists "user_profits" cascade;`);
    this.addSql(`drop table if exists "user_executions" cascade;`);
    this.addSql(`drop table if exists "user_exchange_configs" cascade;`);
    this.addSql(`drop table if exists "balance_snapshots" cascade;`);
    this.addSql(`drop table if exists "email_tokens" cascade;`);
    this.addSql(`drop table if exists "invoices" cascade;`);
    this.addSql(`drop table if exists "trades" cascade;`);
    this.addSql(`drop table if exists "orders" cascade;`);
    this.addSql(`drop table if exists "paper_accounts" cascade;`);
    this.addSql(`drop table if exists "paper_fills" cascade;`);
    this.addSql(`drop table if exists "positions" cascade;`);
    this.addSql(`drop table if exists "risk_events" cascade;`);
    this.addSql(`drop table if exists "sessions" cascade;`);
    this.addSql(`drop table if exists "users" cascade;`);
    this.addSql(`drop table if exists "execution_reports" cascade;`);
    this.addSql(`drop table if exists "signals" cascade;`);
    this.addSql(`drop table if exists "audit_logs" cascade;`);
  }

}
