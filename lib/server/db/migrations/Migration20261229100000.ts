import { Migration } from '@mikro-orm/migrations';

/**
 * A notice is read only while its reader reads what it tells of:
 * - `subject_account_id`: the account a notice is about (a credit notice: the account
 *   whose credit ran low). The inbox and the outbox hold it to the reader's place in the
 *   tree, so a customer moved to another reseller is no longer shown, nor mailed, to
 *   its old reseller's people. Credit notices written before take it from their data.
 * - `read_grants` (all of them needed) replaces `read_grant`: a parent's credit notice
 *   names the account, so its readers need the account's read grant besides
 *   `ledger:read` — a ledger reader who may not read customers sees them by id only.
 *   Earlier parent-side credit notices gain that grant; notices written before
 *   `read_grant` existed take the one their kind is read with.
 */
export class Migration20261229100000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "notification" add column "subject_account_id" uuid null;`);
    this.addSql(
      `alter table "notification" add constraint "notification_subject_account_id_foreign" foreign key ("subject_account_id") references "account" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `create index "notification_subject_account_id_index" on "notification" ("subject_account_id");`,
    );
    this.addSql(
      `alter table "notification" add column "read_grants" text[] not null default '{}';`,
    );
    this.addSql(
      `update "notification" set "read_grants" = array["read_grant"]::text[] where "read_grant" is not null;`,
    );
    // Notices written before `read_grant` existed (Migration20261223200000 left it null)
    // take the grant their kind is read with; a view-as notice is its person's, none.
    this.addSql(`update "notification" set "read_grants" = case
        when "kind" like 'card.%' then array['cards:read']::text[]
        when "kind" like 'account.credit_%' then array['ledger:read']::text[]
        else '{}'::text[] end
      where "read_grant" is null;`);
    this.addSql(`update "notification" n
        set "subject_account_id" = a.id,
            "read_grants" = case when n.account_id = a.id then n.read_grants
              else n.read_grants || case a.kind when 'customer' then 'customers:read'
                                                else 'resellers:read' end end
       from "account" a
      where n.kind in ('account.credit_blocked', 'account.credit_warning')
        and a.id::text = n.data ->> 'accountId';`);
    this.addSql(`alter table "notification" alter column "read_grants" drop default;`);
    // Who was told a revision was coming, found again when it is cancelled.
    this.addSql(
      `create index "notification_revision_card_index" on "notification" ((data ->> 'cardId')) where kind = 'card.revision_scheduled';`,
    );
    this.addSql(`alter table "notification" drop column "read_grant";`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index "notification_revision_card_index";`);
    this.addSql(`alter table "notification" add column "read_grant" varchar(60) null;`);
    this.addSql(`update "notification" set "read_grant" = "read_grants"[1];`);
    this.addSql(`alter table "notification" drop column "read_grants";`);
    this.addSql(
      `alter table "notification" drop constraint "notification_subject_account_id_foreign";`,
    );
    this.addSql(`alter table "notification" drop column "subject_account_id";`);
  }
}
