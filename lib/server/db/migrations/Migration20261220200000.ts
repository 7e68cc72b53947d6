import { Migration } from '@mikro-orm/migrations';

/**
 * A revision keeps the precision and rounding its card priced calls with while it was
 * live (`rate_revision.decimals`, `rounding`). They were read from the card as it is
 * now, so changing a card's rounding or precision re-priced its past: a trace at an
 * instant, or a call from before the change rated afterwards, came out at the new
 * rounding, no longer the price billed then (DESIGN §1: "the price shown is the price
 * billed"). A change of either now records a revision of the same rows with the new
 * terms. Revisions written before this migration are given their card's current terms,
 * the best known; null (a row written by hand) reads the card's.
 */
export class Migration20261220200000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `alter table "rate_revision" add column "decimals" smallint null, add column "rounding" text null;`,
    );
    this.addSql(
      `update rate_revision r set decimals = c.decimals, rounding = c.rounding
         from card c where c.id = r.card_id;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "rate_revision" drop column "decimals", drop column "rounding";`);
  }
}
