import { Migration } from '@mikro-orm/migrations';

/**
 * Which card a customer held when: `customer_card_span`, one row per exclusive assignment
 * (a customer's card) from when it was made to when it was removed or replaced (null:
 * still held). Rating priced every call at the card the customer holds now, so a call
 * from before a card change, posted late or re-rated, was charged at the new card's
 * prices (lib/server/services/assignments/held-card.ts says which card a call takes).
 * A row trigger keeps it, so every insert, delete or update of an assignment — the API, a
 * transfer, a bulk assign, SQL — leaves its span. Times are the row's (`clock_timestamp()`),
 * not the transaction's: a transaction that began before another committed a customer's new
 * card, then replaces that card, would otherwise end its span before it began. A span dies
 * with its card or its account (a deleted card prices nothing; its calls take the next
 * card, as calls from when none was held). Assignments held at this migration start at
 * their creation; what was removed before it is not known.
 */
export class Migration20261217100000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "customer_card_span" (
      "account_id" uuid not null references "account" ("id") on delete cascade,
      "card_id" uuid not null references "card" ("id") on delete cascade,
      "from_at" timestamptz not null,
      "to_at" timestamptz null,
      constraint "customer_card_span_order" check ("to_at" is null or "to_at" >= "from_at"));`);
    this.addSql(
      `create index "customer_card_span_account" on "customer_card_span" ("account_id", "from_at");`,
    );
    this.addSql(`create index "customer_card_span_card" on "customer_card_span" ("card_id");`);
    this.addSql(`create function customer_card_span_track() returns trigger language plpgsql as $$
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
    this.addSql(`create trigger "card_assignment_span" after insert or delete
      or update of "card_id", "account_id", "exclusive" on "card_assignment"
      for each row execute function customer_card_span_track();`);
    this.addSql(`insert into customer_card_span (account_id, card_id, from_at)
      select account_id, card_id, created_at from card_assignment where exclusive;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop trigger if exists "card_assignment_span" on "card_assignment";`);
    this.addSql(`drop function if exists customer_card_span_track();`);
    this.addSql(`drop table if exists "customer_card_span";`);
  }
}
