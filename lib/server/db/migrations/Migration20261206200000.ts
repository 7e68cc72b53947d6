import { Migration } from '@mikro-orm/migrations';

/**
 * Sell cards as carriers build them (issue 16 §3): a derived card's own billing
 * structure (null: the parent's, row by row) and whether its markup applies to the
 * connection fee, and its markup rules by prefix. Generated from the entity.
 */
export class Migration20261206200000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "card" add column "billing_initial_increment" int null;`);
    this.addSql(`alter table "card" add column "billing_increment" int null;`);
    this.addSql(`alter table "card" add column "billing_grace_seconds" int null;`);
    this.addSql(`alter table "card" add column "markup_fee" boolean not null default false;`);
    this.addSql(`alter table "card" add column "rules" jsonb null;`);
  }

  override async down(): Promise<void> {
    this.addSql(
      `alter table "card" drop column "billing_initial_increment", drop column "billing_increment", drop column "billing_grace_seconds", drop column "markup_fee", drop column "rules";`,
    );
  }
}
