import { Migration } from '@mikro-orm/migrations';

export class Migration20261201231444 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "positions" add column "busy_until" timestamptz null, add column "busy_by" varchar(80) null;`);

  }

  override async down(): Promise<void> {
    this.addSql(`alter table "positions" drop column "busy_until", drop column "busy_by";`);

  }

}
