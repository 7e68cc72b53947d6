import { Migration } from '@mikro-orm/migrations';

/**
 * A card's notice, once lowered, still binds for as long as it was (`notice_floor_*`).
 * The notice rule protects the card's holders, who were promised the old notice: lowered
 * to none in the same request as a raise, or set to none, a raise written and the notice
 * put back, it protected nothing. The old hours hold until that many hours after the
 * change (`update-card.ts`; `recordRevision` asks for the larger).
 */
export class Migration20261223100000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `alter table "card"
         add column "notice_floor_hours" int null
           constraint "card_notice_floor_hours_check" check (notice_floor_hours between 1 and 8760),
         add column "notice_floor_until" timestamptz null;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(
      `alter table "card" drop column "notice_floor_hours", drop column "notice_floor_until";`,
    );
  }
}
