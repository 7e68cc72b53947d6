import { Migration } from '@mikro-orm/migrations';

/**
 * Sell cards from several provider cards (issue 16 §3). `card_parent` lists a derived
 * card's parents in priority order (position 0 is `card.parent_id`, kept for the
 * single-parent readers); `card.compaction` says how several parents' rows for one
 * prefix become one; `priced_by` records, per derived row, the parent card whose row
 * priced it (the trace follows it, the margin check compares against it). A minimum
 * duration per row (0: none) and a derived card's own (null: the parent row's). Backfilled:
 * every derived card follows its one parent, which priced all its rows.
 */
export class Migration20261207400000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `alter table "card" add column "compaction" text check ("compaction" in ('lowest', 'highest', 'average', 'first')) null;`,
    );
    this.addSql(`alter table "card" add column "more_parents" jsonb null;`);
    this.addSql(`alter table "card" add column "billing_minimum_seconds" int null;`);
    this.addSql(`alter table "card" add column "compare_with" jsonb null;`);
    this.addSql(`alter table "rate" add column "priced_by" uuid null;`);
    this.addSql(`alter table "rate" add column "minimum_seconds" int not null default 0;`);
    this.addSql(`alter table "rate_history" add column "minimum_seconds" int not null default 0;`);
    this.addSql(`alter table "rate_history" add column "priced_by" uuid null;`);
    this.addSql(
      `create table "card_parent" (
         "card_id" uuid not null references "card" ("id") on delete cascade,
         "parent_id" uuid not null references "card" ("id") on delete restrict,
         "position" smallint not null check ("position" >= 0),
         primary key ("card_id", "position"),
         unique ("card_id", "parent_id"));`,
    );
    this.addSql(`create index "card_parent_parent_id" on "card_parent" ("parent_id");`);
    this.addSql(
      `insert into card_parent (card_id, parent_id, position)
       select id, parent_id, 0 from card where parent_id is not null;`,
    );
    this.addSql(
      `update rate r set priced_by = c.parent_id from card c
        where c.id = r.card_id and c.parent_id is not null;`,
    );
    this.addSql(
      `update rate_history h set priced_by = c.parent_id from card c
        where c.id = h.card_id and c.parent_id is not null;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table "card_parent";`);
    this.addSql(
      `alter table "rate_history" drop column "priced_by", drop column "minimum_seconds";`,
    );
    this.addSql(`alter table "rate" drop column "priced_by", drop column "minimum_seconds";`);
    this.addSql(
      `alter table "card" drop column "compaction", drop column "more_parents", drop column "billing_minimum_seconds", drop column "compare_with";`,
    );
  }
}
