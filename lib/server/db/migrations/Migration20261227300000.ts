import { Migration } from '@mikro-orm/migrations';

/**
 * A statement's totals are sums of a month's movements, which the ledger bounds one by
 * one and by the balance they leave, never in sum: 600,000,000,000 paid, taken back and
 * paid again is 1.2e12 of payments in a month whose balance never passes 6e11. Kept as
 * `numeric(18,6)` like a balance, such a month's statement could never be issued (the
 * insert refused, naming nothing). Thirty digits hold more than a month can move; the
 * opening and closing balances stay as the ledger keeps balances.
 */
export class Migration20261227300000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `alter table "statement" alter column "usage_total" type numeric(30,6), alter column "payments_total" type numeric(30,6), alter column "credit_notes_total" type numeric(30,6), alter column "adjustments_total" type numeric(30,6);`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(
      `alter table "statement" alter column "usage_total" type numeric(18,6), alter column "payments_total" type numeric(18,6), alter column "credit_notes_total" type numeric(18,6), alter column "adjustments_total" type numeric(18,6);`,
    );
  }
}
