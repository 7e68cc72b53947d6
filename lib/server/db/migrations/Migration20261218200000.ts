import { Migration } from '@mikro-orm/migrations';

/**
 * `rate_revision.changed_hidden`: of a revision's `changed` rows, those whose rate and
 * every term a card's holder reads (destination, fee, increments, grace, minimum, blocked)
 * stayed the same — only what its owner reads moved (`losing`, `overridden`, `priced_by`).
 * A holder reads them as unchanged (lib/server/services/rates/revision-queries.ts): when
 * the carrier's provider rises above a card's fixed sell price only the card's `losing`
 * flag turns, and its holder must not learn which prefixes the seller now loses on.
 * Revisions written before this migration count 0.
 */
export class Migration20261218200000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "rate_revision" add column "changed_hidden" int not null default 0;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "rate_revision" drop column "changed_hidden";`);
  }
}
