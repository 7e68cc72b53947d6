import { Migration } from '@mikro-orm/migrations';

/**
 * The demo's derived cards (seed-cards.ts) were written with `card.parent_id` only, after
 * issue 16 made `card_parent` the list every chain reader follows: the price trace
 * stopped at the held card and a change to the upstream card reached none of the cards
 * below it. Every derived card without its `card_parent` rows gets its one parent at
 * position 0, as the issue 16 migration did for the cards there were then.
 */
export class Migration20261208130500 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `insert into card_parent (card_id, parent_id, position)
       select c.id, c.parent_id, 0 from card c
        where c.parent_id is not null
          and not exists (select 1 from card_parent cp where cp.card_id = c.id);`,
    );
  }

  override async down(): Promise<void> {
    // Nothing to undo: the rows say what `parent_id` says.
  }
}
