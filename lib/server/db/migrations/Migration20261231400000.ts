import { Migration } from '@mikro-orm/migrations';

/**
 * A statement's idempotency key is its issuing side's, whichever account it names
 * (issue-statement.ts): looked up by side and key. Not unique: keys sent again for
 * another account before this was held may have issued twice already.
 */
export class Migration20261231400000 extends Migration {
  override async up(): Promise<void> {
    this
      .addSql(`create index "statement_issuer_key" on "statement" ("issued_by_account_id", "idempotency_key")
      where "idempotency_key" is not null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists "statement_issuer_key";`);
  }
}
