import { Migration } from '@mikro-orm/migrations';

/**
 * A payment's idempotency key is the recording side's own (`actor_account_id`), as a
 * transfer's and a re-rate's are: under the paid account alone, a reseller's key met the
 * carrier's for the same customer (a replay of someone else's payment, or a 409 about a
 * key it never used). The old constraint was stronger, so existing rows satisfy this one.
 * A keyed row always names its recording side (every keyed writer has one: payments,
 * corrections, usage batches); the check holds it, since the unique key would let two
 * rows with no side share a key. `down` fails once two sides have used one key for one
 * account: that is what it would forbid again.
 */
export class Migration20261224100000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "ledger_entry" drop constraint "ledger_entry_idempotency_unique";`);
    this.addSql(
      `alter table "ledger_entry" add constraint "ledger_entry_idempotency_unique" unique ("account_id", "actor_account_id", "idempotency_key");`,
    );
    this.addSql(
      `alter table "ledger_entry" add constraint "ledger_entry_key_actor_check" check (idempotency_key is null or actor_account_id is not null);`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "ledger_entry" drop constraint "ledger_entry_key_actor_check";`);
    this.addSql(`alter table "ledger_entry" drop constraint "ledger_entry_idempotency_unique";`);
    this.addSql(
      `alter table "ledger_entry" add constraint "ledger_entry_idempotency_unique" unique ("account_id", "idempotency_key");`,
    );
  }
}
