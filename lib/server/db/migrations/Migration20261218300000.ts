import { Migration } from '@mikro-orm/migrations';

/**
 * `POST /customers/{id}/transfer` takes an idempotency key (DESIGN §1 "Money": every write
 * that moves money takes one), required when the move settles or converts the balance.
 * Without it a retry after a lost answer was refused ("already the customer's parent")
 * instead of answering what the first attempt did. `transfer_request` keeps, per caller's
 * account and key, a hash of what was asked and the first answer, written in the
 * transfer's own transaction, like `usage_rerate_request` (Migration20261215100000).
 * Written and read by SQL only (lib/server/db/idempotent-request.ts).
 */
export class Migration20261218300000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "transfer_request" (
      "account_id" uuid not null,
      "idempotency_key" varchar(100) not null,
      "request_hash" varchar(64) not null,
      "answer" jsonb null,
      "user_id" uuid null,
      "created_at" timestamptz not null,
      constraint "transfer_request_pkey" primary key ("account_id", "idempotency_key"));`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "transfer_request";`);
  }
}
