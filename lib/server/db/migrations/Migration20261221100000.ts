import { Migration } from '@mikro-orm/migrations';

/**
 * Which transaction opened and which closed each card span (`opened_by`, `closed_by`:
 * `txid_current()`), so that transaction can date them again once it holds its carrier's
 * commit order (services/assignments/span-dating.ts). The trigger stamps a span when the
 * assignment row is written, which for a replacement is seconds before it commits (its
 * margin check, its notices, its locks): a rating batch committing in between priced
 * those seconds' calls on the card it could see, which the spans then said was not held.
 * Spans written before this migration keep their times (no transaction to name).
 */
export class Migration20261221100000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `alter table "customer_card_span" add column "opened_by" bigint null, add column "closed_by" bigint null;`,
    );
    this.addSql(`create or replace function customer_card_span_track() returns trigger
      language plpgsql as $$
      begin
        if tg_op in ('DELETE', 'UPDATE') and old.exclusive then
          update customer_card_span
             set to_at = greatest(from_at, clock_timestamp()), closed_by = txid_current()
           where account_id = old.account_id and card_id = old.card_id and to_at is null;
        end if;
        if tg_op in ('INSERT', 'UPDATE') and new.exclusive then
          insert into customer_card_span (account_id, card_id, from_at, opened_by)
          values (new.account_id, new.card_id, clock_timestamp(), txid_current());
        end if;
        return null;
      end $$;`);
  }

  override async down(): Promise<void> {
    this.addSql(`create or replace function customer_card_span_track() returns trigger
      language plpgsql as $$
      begin
        if tg_op in ('DELETE', 'UPDATE') and old.exclusive then
          update customer_card_span set to_at = greatest(from_at, clock_timestamp())
           where account_id = old.account_id and card_id = old.card_id and to_at is null;
        end if;
        if tg_op in ('INSERT', 'UPDATE') and new.exclusive then
          insert into customer_card_span (account_id, card_id, from_at)
          values (new.account_id, new.card_id, clock_timestamp());
        end if;
        return null;
      end $$;`);
    this.addSql(
      `alter table "customer_card_span" drop column "opened_by", drop column "closed_by";`,
    );
  }
}
