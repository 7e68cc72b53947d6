import { Migration } from '@mikro-orm/migrations';

/**
 * A payment's or correction's idempotency key names one request of its recording side
 * (`actor_account_id`), whichever account it paid: the same key sent again for another
 * account is that request changed (409 `idempotency_conflict`), not a second payment —
 * as a transfer's and a re-rate's keys already are. `keyedEntry` looks it up by this
 * index. Not unique: rows written before may share a key across accounts (the unique
 * key per account stays the backstop). Usage batches' keys are per account by design
 * (one batch, one key per payer and counterparty), so they are left out.
 */
export class Migration20261227100000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create index "ledger_entry_actor_key" on "ledger_entry" ("actor_account_id", "idempotency_key") where idempotency_key is not null and kind <> 'usage';`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop index "ledger_entry_actor_key";`);
  }
}
