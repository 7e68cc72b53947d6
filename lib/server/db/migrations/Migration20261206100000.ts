import { Migration } from '@mikro-orm/migrations';

/**
 * Credit warnings (issue 17): the available credit at or below which an account's side
 * and its parent's are told, set per account by the parent's side. Nullable: no
 * account has one until someone sets it.
 */
export class Migration20261206100000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "account" add column "warning_threshold" numeric(18,6) null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "account" drop column "warning_threshold";`);
  }
}
