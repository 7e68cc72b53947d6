import { Migration } from '@mikro-orm/migrations';

/**
 * Profit assurance alerts (issue 16 §3): the rows of a hand-built customer card that
 * lose against the providers it is compared with, as last checked (`prefix@effective`),
 * so a `cards.margin_alert` names only rows that started losing — as a derived card's
 * alert does with its `losing` flags, which a hand-built card's rows cannot carry (its
 * losses move with other cards' rates, not with its own revisions).
 */
export class Migration20261208100000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "assurance_loss" (
         "card_id" uuid not null references "card" ("id") on delete cascade,
         "key" text not null,
         primary key ("card_id", "key"));`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table "assurance_loss";`);
  }
}
