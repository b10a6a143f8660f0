import { Migration } from '@mikro-orm/migrations';

export class Migration20261201235645 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "user_profits" drop column "calculation";`);

    this.addSql(`alter table "user_profits" add column "realized_pnl" numeric(28,10) not null default '0', add column "commission" numeric(28,10) not null default '0', add column "funding" numeric(28,10) not null default '0', add column "capital_flows" numeric(28,10) not null default '0', add column "billable" numeric(28,10) not null default '0';`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "user_profits" drop column "realized_pnl", drop column "commission", drop column "funding", drop column "capital_flows", drop column "billable";`);

    this.addSql(`alter table "user_profits" add column "calculation" jsonb null;`);
  }

}
