import { Migration } from '@mikro-orm/migrations';

/**
 * A statement's idempotency key is the issuing side's own (`issued_by_account_id`), as a
 * payment's is since Migration20261224100000: under the account alone, the carrier's key
 * met a reseller's for the same customer (the carrier handed the reseller's statement as
 * a "replay" of its own request, or a 409 about a key it never used). The old constraint
 * was stronger, so existing rows satisfy this one; every statement is issued by a side
 * (`issueStatement` writes it), and the check holds a keyed one to that, since the
 * unique key would let two rows with no side share a key. `down` fails once two sides
 * have used one key for one account: that is what it would forbid again.
 */
export class Migration20261225100000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "statement" drop constraint "statement_idempotency_unique";`);
    this.addSql(
      `alter table "statement" add constraint "statement_idempotency_unique" unique ("account_id", "issued_by_account_id", "idempotency_key");`,
    );
    this.addSql(
      `alter table "statement" add constraint "statement_key_issuer_check" check (idempotency_key is null or issued_by_account_id is not null);`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "statement" drop constraint "statement_key_issuer_check";`);
    this.addSql(`alter table "statement" drop constraint "statement_idempotency_unique";`);
    this.addSql(
      `alter table "statement" add constraint "statement_idempotency_unique" unique ("account_id", "idempotency_key");`,
    );
  }
}
