import { Migration } from '@mikro-orm/migrations';

/**
 * The parents a derived card followed before its parents were changed
 * (`card_former_parent`). A call is priced by the revisions live at its start, and a
 * derived row names the parent that priced it (`priced_by`): a call from before
 * `PATCH /cards/{id} {parents}` climbs to a parent `card_parent` no longer lists. Rating
 * and the price trace read the cards they may climb to from `card_parent` and this
 * table (authorize reads `priced_by` straight), so such a call is priced as it was
 * billed then, not left unrated `no_card`. A former parent deleted since takes its
 * link with it (its history went with it too). Filled from history: every parent a
 * card's rows name that it does not follow now.
 */
export class Migration20261222200000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "card_former_parent" (
         "card_id" uuid not null references "card" ("id") on delete cascade,
         "parent_id" uuid not null references "card" ("id") on delete cascade,
         primary key ("card_id", "parent_id"),
         check ("card_id" <> "parent_id"));`,
    );
    this.addSql(
      `insert into card_former_parent (card_id, parent_id)
       select distinct h.card_id, h.priced_by from rate_history h
        where h.priced_by is not null and h.priced_by <> h.card_id
          and exists (select 1 from card p where p.id = h.priced_by)
          and not exists (select 1 from card_parent cp
                           where cp.card_id = h.card_id and cp.parent_id = h.priced_by)
       on conflict do nothing;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table "card_former_parent";`);
  }
}
