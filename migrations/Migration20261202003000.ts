import { Migration } from '@mikro-orm/migrations';

export class Migration20261202003000 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "invoices" add column "overdue_notified_at" timestamptz null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "invoices" drop column "overdue_notified_at";`);
  }

}
