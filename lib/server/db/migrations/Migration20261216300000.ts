import { Migration } from '@mikro-orm/migrations';

/** Why a record is unrated, before and after this migration (lib/shared/schemas/usage.ts). */
const REASONS_BEFORE = [
  'unknown_account',
  'account_suspended',
  'credit_blocked',
  'no_card',
  'no_route',
  'blocked_prefix',
  'currency_mismatch',
];
const REASONS = [...REASONS_BEFORE, 'moved'];

const reasonCheck = (reasons: string[]) =>
  `alter table "usage_record" add constraint "usage_record_reason_check" check ("reason" in (${reasons
    .map((reason) => `'${reason}'`)
    .join(', ')}));`;

/**
 * A transfer moves the customer's path but not its past, calls included: usage from
 * before a move was rated on the new parent's chain and filed under its path when it came
 * late or was re-rated.
 * - `account.placed_at`: when the account's current placement took effect, set by the
 *   transfer (null: since it was made). Customers moved before this migration take the
 *   time of their last transfer in the change log (the audit keeps it); the commit guard
 *   steps aside for this one fill, as in Migration20261205300000.
 * - `usage_record.reason` may be `moved`: a call from before the customer's transfer,
 *   kept unrated where it is filed, never priced on the new chain
 *   (lib/server/services/usage/rate-batch.ts).
 */
export class Migration20261216300000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "account" add column "placed_at" timestamptz null;`);
    this.addSql(`alter table "account" disable trigger account_change_log_required;`);
    this.addSql(`update account a set placed_at = moved.at
      from (select entity_id, max(at) as at from change_log
             where resource = 'customers' and op = 'updated' and summary->>'reason' = 'transfer'
             group by entity_id) moved
     where a.id = moved.entity_id;`);
    this.addSql(`alter table "account" enable trigger account_change_log_required;`);
    this.addSql(`alter table "usage_record" drop constraint "usage_record_reason_check";`);
    this.addSql(reasonCheck(REASONS));
  }

  override async down(): Promise<void> {
    // Fails while a record is `moved`: such a call has no other reason to take.
    this.addSql(`alter table "usage_record" drop constraint "usage_record_reason_check";`);
    this.addSql(reasonCheck(REASONS_BEFORE));
    this.addSql(`alter table "account" drop column "placed_at";`);
  }
}
