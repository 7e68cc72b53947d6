import { Migration } from '@mikro-orm/migrations';

/**
 * `account.suspended_by_path`: the path of the account whose person suspended it (null
 * while active, and for a suspension made before this was kept). Only that account, or
 * one above it, may resume it (update-sub-account.ts `assertMayResume`): a carrier's
 * suspension of a customer is not lifted by the customer's reseller.
 */
export class Migration20261230300000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "account" add column "suspended_by_path" text null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "account" drop column "suspended_by_path";`);
  }
}
