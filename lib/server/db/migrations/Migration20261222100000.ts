import { Migration } from '@mikro-orm/migrations';

/**
 * A card is never its own parent. The writers refuse it (`is this card`), but an id in
 * capitals passed that check while PostgreSQL read it as the same card, and a card that
 * follows itself makes the recursive reads of a card's followers and of its scheduled
 * revisions run without end (each holding a connection and the card's lock). Ids are
 * now read in lower case (`ZId`); these checks are the backstop. Validated: a card
 * that followed itself would have stopped the installation, so none is there.
 */
export class Migration20261222100000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `alter table "card_parent" add constraint "card_parent_not_self" check ("card_id" <> "parent_id");`,
    );
    this.addSql(
      `alter table "card" add constraint "card_not_own_parent" check ("parent_id" <> "id");`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "card" drop constraint "card_not_own_parent";`);
    this.addSql(`alter table "card_parent" drop constraint "card_parent_not_self";`);
  }
}
