import { Migration } from '@mikro-orm/migrations';

/**
 * By hand: a partial index on the change-log entries that can change someone's access
 * (users, groups, view-as, a status cascade), so catch-up's "did your access change
 * since then" reads those entries alone instead of every entry after the caller's point.
 */
export class Migration20261128190000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create index "change_log_access_index" on "change_log" ("seq") where resource = 'users' or resource = 'groups' or resource = 'impersonation' or (summary ->> 'reason') = 'status_cascade';`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop index "change_log_access_index";`);
  }
}
