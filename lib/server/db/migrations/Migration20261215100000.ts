import { Migration } from '@mikro-orm/migrations';

/**
 * `POST /usage/rerate` takes an idempotency key (DESIGN §1 "Money": every write that
 * moves money takes one). Re-rating by ids was safe without it (the records are locked
 * and rated once), but a retried `{all: true}` after a timeout rated whatever was still
 * unrated by then. `usage_rerate_request` keeps, per poster's account and key, a hash of
 * what was asked and the first answer, written in the re-rate's own transaction, so a
 * retry answers the same and the same key with another request is refused. Written and
 * read by SQL only (lib/server/services/usage/rerate-usage.ts), no entity, like the usage
 * tables. `answer` is null only inside the transaction that claims the key, never once
 * committed.
 */
export class Migration20261215100000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "usage_rerate_request" (
      "account_id" uuid not null,
      "idempotency_key" varchar(100) not null,
      "request_hash" varchar(64) not null,
      "answer" jsonb null,
      "user_id" uuid null,
      "created_at" timestamptz not null,
      constraint "usage_rerate_request_pkey" primary key ("account_id", "idempotency_key"));`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "usage_rerate_request";`);
  }
}
