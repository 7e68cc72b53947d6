import { Migration } from '@mikro-orm/migrations';

/**
 * `usage_record.priced_at`: when a rated call's cards were read, if not at its start. A
 * call its cards could not price (no card, no route, a blocked prefix, another currency)
 * is priced, when re-rated after the fix, by the cards as they stand at the re-rate: a
 * revision is never dated in the past, so the cards as they were at its start could
 * never price it (rerate-usage.ts). Null: priced at its start, as every call before.
 */
export class Migration20261230100000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "usage_record" add column "priced_at" timestamptz null;`);
    this.addSql(`alter table "usage_record" add constraint "usage_record_priced_rated"
      check ("priced_at" is null or "status" = 'rated');`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "usage_record" drop column "priced_at";`);
  }
}
