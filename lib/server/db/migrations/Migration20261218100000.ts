import { Migration } from '@mikro-orm/migrations';

/**
 * `usage_record.reason_depth`: for an unrated call whose reason is a card's trouble
 * (`no_card`, `currency_mismatch`, `blocked_prefix`), the depth in the tree of the account
 * that pays at the level where it arose. A viewer above that level (a reseller, when the
 * trouble is its parent's or the carrier's card) reads `no_route` instead, as
 * `POST /authorize` answers: it learns that something above refuses, never what the cards
 * there hold (lib/server/services/usage/unrated-reason.ts). Records rated before this
 * migration have none and read as trouble at the top: only the carrier sees their reason
 * until they are re-rated.
 */
export class Migration20261218100000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "usage_record" add column "reason_depth" smallint null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "usage_record" drop column "reason_depth";`);
  }
}
