import { Migration } from '@mikro-orm/migrations';

/**
 * audit_logs is append-only in the database itself, not only by the
 * application's good manners: UPDATE, DELETE and TRUNCATE are refused for
 * every role that does not own the trigger away (a superuser can still drop
 * it, visibly, in a migration).
 */
export class Migration20261201220709 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create or replace function "audit_logs_append_only"() returns trigger language plpgsql as $$
begin
  raise exception 'audit_logs is append-only: % refused', tg_op using errcode = 'insufficient_privilege';
end;
$$;`);
    this.addSql(`create trigger "audit_logs_no_update_delete" before update or delete on "audit_logs" for each row execute function "audit_logs_append_only"();`);
    this.addSql(`create trigger "audit_logs_no_truncate" before truncate on "audit_logs" for each statement execute function "audit_logs_append_only"();`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop trigger if exists "audit_logs_no_truncate" on "audit_logs";`);
    this.addSql(`drop trigger if exists "audit_logs_no_update_delete" on "audit_logs";`);
    this.addSql(`drop function if exists "audit_logs_append_only"();`);
  }

}
