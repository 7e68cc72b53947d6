import { Migration } from '@mikro-orm/migrations';

/**
 * `account_suspension` outlives its account: a call made while an account was suspended
 * is unrated for good because a suspension covers its start (usage/unrated-reason.ts
 * `fixableSql`), and an account deleted with such calls (they do not bar it) took its
 * suspensions with it by cascade — its calls came back as waiting for a fix, counted
 * under Needs attention and taken by every re-rate. Its rows are kept (few, and small).
 */
export class Migration20261231200000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `alter table "account_suspension" drop constraint "account_suspension_account_id_fkey";`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(
      `delete from "account_suspension" s where not exists (select 1 from "account" a where a.id = s.account_id);`,
    );
    this
      .addSql(`alter table "account_suspension" add constraint "account_suspension_account_id_fkey"
      foreign key ("account_id") references "account" ("id") on delete cascade;`);
  }
}
