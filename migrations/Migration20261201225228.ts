import { Migration } from '@mikro-orm/migrations';

/**
 * Sessions issued before sessions recorded their token version got 0. Give
 * the live ones their user's current version, so users who once changed their
 * password are not all signed out at their next refresh by this deploy.
 */
export class Migration20261201225228 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`update "sessions" as s set "token_version" = u."token_version" from "users" as u where u."id" = s."user_id" and s."revoked_at" is null;`);
  }

  override async down(): Promise<void> {
    // Nothing to undo: the column itself goes with the migration that added it.
  }

}
