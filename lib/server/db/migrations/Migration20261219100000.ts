import { Migration } from '@mikro-orm/migrations';

/**
 * A derived card's revision names the parent's revision it was computed from
 * (`parent_revision_id`), and deleting a card deletes its revisions. The reference was
 * `on delete cascade`, so deleting a card that a derived card had followed once (and
 * follows no more: only such a card may be deleted) deleted that derived card's
 * revisions computed from it, and theirs below, while their rows stayed in
 * `rate_history`: the past prices of the cards below it were rewritten (a trace or a
 * re-rate at an instant then read an older revision). The derived revisions now stay,
 * no longer naming a revision that is gone.
 */
export class Migration20261219100000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `alter table "rate_revision" drop constraint "rate_revision_parent_revision_id_fkey";`,
    );
    this.addSql(
      `alter table "rate_revision" add constraint "rate_revision_parent_revision_id_fkey"
         foreign key ("parent_revision_id") references "rate_revision" ("id") on delete set null;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(
      `alter table "rate_revision" drop constraint "rate_revision_parent_revision_id_fkey";`,
    );
    this.addSql(
      `alter table "rate_revision" add constraint "rate_revision_parent_revision_id_fkey"
         foreign key ("parent_revision_id") references "rate_revision" ("id") on delete cascade;`,
    );
  }
}
