import { Migration } from '@mikro-orm/migrations';

/**
 * Two reads of a card's open history by date, each walking every row of the card (or of
 * the prefix) before:
 * - `rate_history_open_dated`: the rows dated ahead of the live set, for the Overview's
 *   "scheduled rate changes" (dashboard-attention.ts). It read each card's whole history
 *   below the viewer, closed rows included: a reseller's three re-imports of 250k rows
 *   made the carrier's Overview 57 times slower.
 * - `rate_history_open_by_date`: a merge's kept terms, from the prefix's row in force at
 *   the staged row's date (rate-sets.ts): each staged row scanned every row of its prefix,
 *   8,000 dates of one prefix merged in 11 s, 200,000 for hours.
 */
export class Migration20261231300000 extends Migration {
  override async up(): Promise<void> {
    this
      .addSql(`create index "rate_history_open_dated" on "rate_history" ("card_id", "effective_from")
      where "to_rev" is null and "effective_from" is not null;`);
    this.addSql(`create index "rate_history_open_by_date" on "rate_history"
      ("card_id", "prefix", (coalesce("effective_from", '-infinity'::timestamptz)) desc)
      where "to_rev" is null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists "rate_history_open_by_date";`);
    this.addSql(`drop index if exists "rate_history_open_dated";`);
  }
}
