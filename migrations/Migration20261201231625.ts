import { Migration } from '@mikro-orm/migrations';

export class Migration20261201231625 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "signals" add column "idempotency_key" varchar(128) null;`);
    this.addSql(`alter table "signals" add constraint "signals_idempotency_key_unique" unique ("idempotency_key");`);

  }

  override async down(): Promise<void> {
    this.addSql(`alter table "signals" drop constraint "signals_idempotency_key_unique";`);
    this.addSql(`alter table "signals" drop column "idempotency_key";`);

  }

}
