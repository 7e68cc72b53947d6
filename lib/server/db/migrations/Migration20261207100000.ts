import { Migration } from '@mikro-orm/migrations';
import { CATALOG_BEFORE_USAGE, widenWholeCatalogGroups, withdrawGrants } from './grant-catalog';

/** The grants issue 18's rating adds, and the catalog before them (a group holding all of it). */
const NEW_GRANTS = ['usage:create', 'usage:read'];

/** Why a record is unrated (as lib/shared/schemas/usage.ts had them when this was written). */
const UNRATED_REASONS = [
  'unknown_account',
  'account_suspended',
  'credit_blocked',
  'no_card',
  'no_route',
  'blocked_prefix',
  'currency_mismatch',
];

/** Columns of a usage record that are the call's facts: never rewritten. */
const RECORD_FACTS = [
  'id',
  'carrier_id',
  'cdr_id',
  'account_id',
  'number',
  'started_at',
  'seconds',
  'received_at',
  'poster_account_id',
  'poster_user_id',
];

/**
 * Rating (issue 18), by hand: the tables are written and read by set-based SQL only
 * (lib/server/services/usage), so they have no entities (like `rate_history`).
 * - `usage_record`: one row per call record, unique by the switch's id per carrier
 *   (`carrier_id`, `cdr_id`: a replay finds the first), with its outcome (`status`,
 *   `reason`) and the customer's path when it was rated (the poster's account's path
 *   for an unknown account), which scopes every read.
 * - `usage_charge`: one row per record and charged level: who paid (`payer_id`, its
 *   depth for the visibility rule, `counterparty_id` null for its own provider cost),
 *   the card and rate row that priced it, billed seconds, amount, currency, and the
 *   ledger entry that carried it (null for a level that cost nothing).
 * Both are append-only like the ledger, with one exception kept narrow by a trigger: an
 *   unrated record may be decided again (re-rating after a fix) — only from `unrated`,
 *   only its outcome columns, each attempt counted (`attempts` goes up by one) and named
 *   (`batch_id`); a rated record and the call's facts never change, and nothing is
 *   deleted. A re-rated call's charges are new rows with their own ledger entries.
 * - The grants `usage:create` and `usage:read` for groups holding the whole catalog as
 *   it was (a carrier's administrators), as Migration20261205300000 did for the ledger;
 *   every other group keeps its grants.
 */
export class Migration20261207100000 extends Migration {
  override async up(): Promise<void> {
    const reasons = UNRATED_REASONS.map((reason) => `'${reason}'`).join(', ');
    this.addSql(`create table "usage_record" (
      "id" bigserial primary key,
      "carrier_id" uuid not null,
      "cdr_id" varchar(100) not null,
      "account_id" uuid not null,
      "number" varchar(32) not null,
      "started_at" timestamptz not null,
      "seconds" int not null check ("seconds" between 0 and 86400),
      "status" text not null check ("status" in ('rated', 'unrated')),
      "reason" text null check ("reason" in (${reasons})),
      "path" text not null,
      "received_at" timestamptz not null,
      "rated_at" timestamptz null,
      "batch_id" uuid not null,
      "attempts" smallint not null default 1,
      "poster_account_id" uuid not null,
      "poster_user_id" uuid null,
      constraint "usage_record_cdr_unique" unique ("carrier_id", "cdr_id"),
      constraint "usage_record_outcome_check"
        check (("status" = 'rated') = ("reason" is null) and ("status" = 'rated') = ("rated_at" is not null)));`);
    // Calls arrive about in the order they started: a block range index finds a time
    // window (the traffic summaries) for almost nothing per insert, where a b-tree on
    // the path and time cost a third of the record's write (docs/bench.md).
    this.addSql(
      `create index "usage_record_started_index" on "usage_record" using brin ("started_at") with (pages_per_range = 32);`,
    );
    this.addSql(
      `create index "usage_record_unrated_index" on "usage_record" ("path" text_pattern_ops, "id") where "status" = 'unrated';`,
    );
    this.addSql(`create table "usage_charge" (
      "record_id" bigint not null,
      "level" smallint not null,
      "payer_id" uuid not null,
      "payer_depth" smallint not null,
      "counterparty_id" uuid null,
      "card_id" uuid not null,
      "prefix" varchar(20) not null,
      "destination" varchar(120) not null,
      "billed_seconds" int not null,
      "amount" numeric(18,6) not null check ("amount" >= 0),
      "currency" varchar(3) not null,
      "ledger_entry_id" bigint null,
      constraint "usage_charge_pkey" primary key ("record_id", "level"));`);

    this.addSql(`create function usage_append_only() returns trigger language plpgsql as $$
      begin raise exception '% is append-only', tg_table_name; end $$;`);
    this.addSql(
      `create trigger usage_charge_append_only before update or delete on "usage_charge" for each row execute function usage_append_only();`,
    );
    this.addSql(
      `create trigger usage_charge_no_truncate before truncate on "usage_charge" for each statement execute function usage_append_only();`,
    );
    const factsChanged = RECORD_FACTS.map(
      (column) => `new.${column} is distinct from old.${column}`,
    ).join(' or ');
    this.addSql(`create function usage_record_rerate_only() returns trigger language plpgsql as $$
      begin
        if tg_op <> 'UPDATE' then
          raise exception 'usage_record is append-only';
        end if;
        if old.status <> 'unrated' then
          raise exception 'usage record % is rated: it never changes', old.id;
        end if;
        if ${factsChanged} then
          raise exception 'usage record %: a call''s facts never change', old.id;
        end if;
        if new.attempts <> old.attempts + 1 or new.batch_id = old.batch_id then
          raise exception 'usage record %: each rating attempt is counted and named', old.id;
        end if;
        return new;
      end $$;`);
    this.addSql(
      `create trigger usage_record_rerate_only before update or delete on "usage_record" for each row execute function usage_record_rerate_only();`,
    );
    this.addSql(
      `create trigger usage_record_no_truncate before truncate on "usage_record" for each statement execute function usage_append_only();`,
    );

    for (const sql of widenWholeCatalogGroups(CATALOG_BEFORE_USAGE, NEW_GRANTS)) this.addSql(sql);
  }

  override async down(): Promise<void> {
    for (const sql of withdrawGrants(NEW_GRANTS)) this.addSql(sql);
    this.addSql(`drop table if exists "usage_charge" cascade;`);
    this.addSql(`drop table if exists "usage_record" cascade;`);
    this.addSql(`drop function if exists usage_record_rerate_only();`);
    this.addSql(`drop function if exists usage_append_only();`);
  }
}
