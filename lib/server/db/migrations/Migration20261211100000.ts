import { Migration } from '@mikro-orm/migrations';
import {
  CATALOG_BEFORE_STATEMENTS,
  widenWholeCatalogGroups,
  withdrawGrants,
} from './grant-catalog';

/** The grants issue 19's statements add, and the catalog before them (a group holding all of it). */
const NEW_GRANTS = ['statements:read', 'statements:create'];

/**
 * Statements (issue 19), by hand: read and written by SQL only
 * (lib/server/services/statements), so no entity (like the usage and brand tables).
 * - `statement`: one issued monthly statement of an account, numbered 1, 2, … per
 *   account (unique; the issuer holds the account's row lock while it counts), with the
 *   period, the currency, every total as `numeric`, the issuer's name and contacts as they
 *   were, and the PDF itself. Issued is final: a trigger refuses UPDATE, DELETE and
 *   TRUNCATE, as on the ledger it is made from; issuing the month again makes a new one.
 *   An account with statements is not deleted (restrict, like its ledger entries).
 * - `usage_charge` gets an index on its ledger entry: a statement's usage by destination
 *   is the charges of the period's usage entries (what the ledger moved), found by entry.
 * - The commit guard of the other logged tables: every statement is in the change log
 *   (resource `statements`).
 * - The grants for groups holding the whole catalog as it was (a carrier's
 *   administrators); every other group keeps its grants (the subset rule).
 */
export class Migration20261211100000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "statement" (
      "id" uuid primary key,
      "account_id" uuid not null references "account" ("id") on update cascade on delete restrict,
      "number" int not null check ("number" > 0),
      "period_start" timestamptz not null,
      "period_end" timestamptz not null check ("period_end" > "period_start"),
      "currency" varchar(3) not null,
      "opening_balance" numeric(18,6) not null,
      "usage_total" numeric(18,6) not null,
      "payments_total" numeric(18,6) not null,
      "credit_notes_total" numeric(18,6) not null,
      "adjustments_total" numeric(18,6) not null,
      "closing_balance" numeric(18,6) not null,
      "usage_lines" jsonb not null,
      "issuer" jsonb not null,
      "pdf" bytea not null,
      "issued_by_user_id" uuid null,
      "issued_by_account_id" uuid null,
      "idempotency_key" varchar(100) null,
      "issued_at" timestamptz not null,
      constraint "statement_number_unique" unique ("account_id", "number"),
      constraint "statement_idempotency_unique" unique ("account_id", "idempotency_key"),
      constraint "statement_adds_up" check ("opening_balance" + "usage_total" + "payments_total"
        + "credit_notes_total" + "adjustments_total" = "closing_balance"));`);
    this.addSql(`create function statement_issued_final() returns trigger language plpgsql as $$
      begin raise exception 'statement is final once issued: issue a new one'; end $$;`);
    this.addSql(
      `create trigger statement_final before update or delete on "statement" for each row execute function statement_issued_final();`,
    );
    this.addSql(
      `create trigger statement_no_truncate before truncate on "statement" for each statement execute function statement_issued_final();`,
    );
    this.addSql(
      `create constraint trigger "statement_change_log_required" after insert or update or delete on "statement" deferrable initially deferred for each row execute function change_log_required();`,
    );

    this.addSql(
      `create index "usage_charge_ledger_entry_index" on "usage_charge" ("ledger_entry_id") where "ledger_entry_id" is not null;`,
    );

    for (const sql of widenWholeCatalogGroups(CATALOG_BEFORE_STATEMENTS, NEW_GRANTS)) {
      this.addSql(sql);
    }
  }

  override async down(): Promise<void> {
    for (const sql of withdrawGrants(NEW_GRANTS)) this.addSql(sql);
    this.addSql(`drop index if exists "usage_charge_ledger_entry_index";`);
    this.addSql(`drop table if exists "statement" cascade;`);
    this.addSql(`drop function if exists statement_issued_final();`);
  }
}
