import { Migration } from '@mikro-orm/migrations';

/**
 * A statement names the parent the account had when it was issued (`parent_id`), as a
 * ledger entry names its counterparty: who above may read it follows the books it was
 * made from (`booksSql` in lib/server/authz/scope.ts), so a customer's new parent after a
 * transfer does not read the statements its old one issued. No key to `account`: the
 * parent may be deleted later without touching an issued statement.
 *
 * Statements issued before this migration get the parent named by their issue's
 * change-log row (the account's path then), else the account's parent now. Issued
 * statements are final: the guards are lifted for the fill only, in this transaction.
 */
export class Migration20261214100000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "statement" add column "parent_id" uuid null;`);
    this.addSql(`alter table "statement" disable trigger statement_final;`);
    this.addSql(`alter table "statement" disable trigger statement_change_log_required;`);
    // Its issue's change-log row is scoped to the account's path at the time (the parent
    // is the second last id there); the account's parent now where that row is missing.
    this.addSql(`update "statement" s set "parent_id" = coalesce(
        (select (ids[array_length(ids, 1) - 1])::uuid
           from (select string_to_array(rtrim(c.scope_after, '/'), '/') as ids
                   from "change_log" c
                  where c.entity_id = s.id and c.resource = 'statements' and c.op = 'created'
                  order by c.seq limit 1) issued),
        a.parent_id)
      from "account" a where a.id = s.account_id;`);
    this.addSql(`alter table "statement" enable trigger statement_final;`);
    this.addSql(`alter table "statement" enable trigger statement_change_log_required;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "statement" drop column "parent_id";`);
  }
}
