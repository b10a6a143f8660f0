import { Migration } from '@mikro-orm/migrations';

export class Migration20261201224636 extends Migration {

  override async up(): Promise<void> {

    this.addSql(`alter table "user_risk_states" add column "last_equity" numeric(28,10) null;`);
  }

  override async down(): Promise<void> {

    this.addSql(`alter table "user_risk_states" drop column "last_equity";`);
  }

}
