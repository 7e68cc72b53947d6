import { Migration } from '@mikro-orm/migrations';

/**
 * A statement keeps what it was issued as:
 * - `account_name`: the account's name on the day, as its PDF prints it. Read from the
 *   account's row, a rename after issue changed a final statement's JSON (and no live
 *   event said so) while its PDF kept the old name. Statements issued before this
 *   migration take the name their issue's change-log row carried, else the account's now.
 * - numbered per issuing parent (`account_id`, `parent_id`, `number`): counted across
 *   every parent, a customer's new parent after a transfer started at the old side's
 *   count plus one — telling it how many statements the old side issued, and showing a
 *   gap in its own numbering. Existing numbers stay as issued (they were unique per
 *   account, so they are unique per account and parent).
 * Issued statements are final: the guards are lifted for the fill only, in this
 * transaction.
 */
export class Migration20261228100000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "statement" add column "account_name" text null;`);
    this.addSql(`alter table "statement" disable trigger statement_final;`);
    this.addSql(`alter table "statement" disable trigger statement_change_log_required;`);
    this.addSql(`update "statement" s set "account_name" = coalesce(
        (select c.after ->> 'accountName' from "change_log" c
          where c.entity_id = s.id and c.resource = 'statements' and c.op = 'created'
          order by c.seq limit 1),
        a.name)
      from "account" a where a.id = s.account_id;`);
    this.addSql(`alter table "statement" enable trigger statement_final;`);
    this.addSql(`alter table "statement" enable trigger statement_change_log_required;`);
    this.addSql(`alter table "statement" alter column "account_name" set not null;`);
    this.addSql(`alter table "statement" drop constraint "statement_number_unique";`);
    this.addSql(
      `alter table "statement" add constraint "statement_number_unique" unique ("account_id", "parent_id", "number");`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "statement" drop constraint "statement_number_unique";`);
    this.addSql(
      `alter table "statement" add constraint "statement_number_unique" unique ("account_id", "number");`,
    );
    this.addSql(`alter table "statement" drop column "account_name";`);
  }
}
