import { Migration } from '@mikro-orm/migrations';

/**
 * `card.decimals_from_parent`, `card.rounding_from_parent`: a derived card whose derive
 * did not set its precision or rounding follows its parent's — now and whenever the
 * parent's changes (the README's "its own `decimals` and `rounding` when the derive gives
 * them, else its parent's"). Until now both were copied once at the derive, so a parent
 * moved to 6 decimals left its children pricing at 4, rounding their buy price away.
 * Cards derived before: following where they still equal their parent's.
 */
export class Migration20261230200000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "card"
      add column "decimals_from_parent" boolean not null default false,
      add column "rounding_from_parent" boolean not null default false;`);
    this.addSql(`update "card" c
        set "decimals_from_parent" = c."decimals" = p."decimals",
            "rounding_from_parent" = c."rounding" = p."rounding"
       from "card" p where p."id" = c."parent_id";`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "card" drop column "decimals_from_parent",
      drop column "rounding_from_parent";`);
  }
}
