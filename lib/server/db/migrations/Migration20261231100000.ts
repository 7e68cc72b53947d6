import { Migration } from '@mikro-orm/migrations';

/**
 * When an account was suspended: `account_suspension`, one row per suspension, from when
 * it was set to when it was lifted (null: still suspended). Rating judged a call by its
 * accounts' status at posting, so calls made before a suspension (a fraud stop, say) and
 * posted after it were never charged — the carrier paid its provider for them and billed
 * nobody — while calls made during one and posted after its lifting were charged. Issue
 * 18 asks for the status at the call's start (usage/rate-batch.ts `suspendedAt`).
 *
 * A row trigger keeps it, so every writer of `account.status` (a PATCH, a bulk change,
 * SQL) leaves its span. Times are the row's (`clock_timestamp()`): the status is written
 * under the account's row lock, which a rating batch holds on every account of its calls'
 * paths, so a suspension is stamped after every batch that rated before it committed and
 * before every batch that rates after. A span dies with its account.
 *
 * An account suspended at this migration is suspended from the latest log entry that
 * suspended it (the change log keeps every update with its status before and after), else
 * from the beginning of time: its earlier calls stay unrated, as they were.
 */
export class Migration20261231100000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "account_suspension" (
      "account_id" uuid not null references "account" ("id") on delete cascade,
      "from_at" timestamptz not null,
      "to_at" timestamptz null,
      constraint "account_suspension_order" check ("to_at" is null or "to_at" >= "from_at"));`);
    this.addSql(
      `create index "account_suspension_account" on "account_suspension" ("account_id", "from_at");`,
    );
    this.addSql(`create function account_suspension_track() returns trigger language plpgsql as $$
      begin
        if tg_op = 'UPDATE' and old.status = 'suspended' and new.status <> 'suspended' then
          update account_suspension set to_at = greatest(from_at, clock_timestamp())
           where account_id = new.id and to_at is null;
        end if;
        if new.status = 'suspended' and (tg_op = 'INSERT' or old.status <> 'suspended') then
          insert into account_suspension (account_id, from_at) values (new.id, clock_timestamp());
        end if;
        return null;
      end $$;`);
    this.addSql(`create trigger "account_suspension_span" after insert or update of "status"
      on "account" for each row execute function account_suspension_track();`);
    this.addSql(`insert into account_suspension (account_id, from_at)
      select a.id, coalesce(
               (select max(l.at) from change_log l
                 where l.entity_id = a.id and l.after ->> 'status' = 'suspended'
                   and coalesce(l.before ->> 'status', '') <> 'suspended'),
               '-infinity')
        from account a where a.status = 'suspended';`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop trigger if exists "account_suspension_span" on "account";`);
    this.addSql(`drop function if exists account_suspension_track();`);
    this.addSql(`drop table if exists "account_suspension";`);
  }
}
