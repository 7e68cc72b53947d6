import { Migration } from '@mikro-orm/migrations';
import { CATALOG_BEFORE_MONEY, widenWholeCatalogGroups, withdrawGrants } from './grant-catalog';

/** The grants issue 17 adds, and the catalog before them (a group holding all of it). */
const NEW_GRANTS = ['payments:create', 'ledger:read'];

/**
 * Money along the chain (issue 17): every account's currency and the append-only ledger,
 * generated from the entities, plus by hand:
 * - existing accounts take the currency of the cards they hold (the most held one), or
 *   else their parent's; a carrier the currency of most of the cards it owns, or EUR
 *   (the demo cards'). Parents first, by depth. The commit guard steps aside for this
 *   one rewrite, as the log's did in Migration20261202100000;
 * - the ledger refuses UPDATE, DELETE and TRUNCATE, whoever writes, like the change log;
 * - an account whose credit (balance + limit, when it has a limit) is used up is marked
 *   blocked for credit;
 * - a group holding the whole catalog as it was (a carrier's administrators) gains the
 *   new grants, so the catalog stays whole for it; every other group keeps its grants
 *   (the subset rule: nobody is handed a grant here that its group's owner chose).
 */
export class Migration20261205300000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "ledger_entry" ("id" bigserial primary key, "account_id" uuid not null, "counterparty_id" uuid null, "kind" text check ("kind" in ('payment', 'credit_note', 'adjustment', 'usage')) not null, "amount" numeric(18,6) not null, "currency" varchar(3) not null, "balance_after" numeric(18,6) not null, "reference" varchar(200) null, "idempotency_key" varchar(100) null, "request_hash" varchar(64) null, "actor_user_id" uuid null, "actor_account_id" uuid null, "impersonator_user_id" uuid null, "created_at" timestamptz not null, constraint ledger_entry_amount_check check ((amount <> (0)::numeric)));`,
    );
    this.addSql(
      `create index "ledger_entry_counterparty_id_index" on "ledger_entry" ("counterparty_id");`,
    );
    this.addSql(
      `create index "ledger_entry_account_index" on "ledger_entry" ("account_id", "id");`,
    );
    this.addSql(
      `alter table "ledger_entry" add constraint "ledger_entry_idempotency_unique" unique ("account_id", "idempotency_key");`,
    );
    this.addSql(
      `alter table "ledger_entry" add constraint "ledger_entry_account_id_foreign" foreign key ("account_id") references "account" ("id") on update cascade on delete restrict;`,
    );
    this.addSql(
      `alter table "ledger_entry" add constraint "ledger_entry_counterparty_id_foreign" foreign key ("counterparty_id") references "account" ("id") on update cascade on delete restrict;`,
    );
    this.addSql(`create function ledger_append_only() returns trigger language plpgsql as $$
      begin raise exception 'ledger_entry is append-only'; end $$;`);
    this.addSql(
      `create trigger ledger_entry_append_only before update or delete on "ledger_entry" for each row execute function ledger_append_only();`,
    );
    this.addSql(
      `create trigger ledger_entry_no_truncate before truncate on "ledger_entry" for each statement execute function ledger_append_only();`,
    );

    this.addSql(`alter table "account" add column "currency" varchar(3) null;`);
    this.addSql(
      `alter table "account" add column "credit_blocked" boolean not null default false;`,
    );
    this.addSql(`alter table "account" disable trigger account_change_log_required;`);
    this.addSql(`do $$
      declare level smallint;
      begin
        update account a set currency = coalesce(
          (select c.currency from card c where c.owner_id = a.id
            group by c.currency order by count(*) desc, c.currency limit 1), 'EUR')
         where a.kind = 'carrier';
        for level in select distinct depth from account where kind <> 'carrier' order by depth loop
          update account a set currency = coalesce(
            (select c.currency from card_assignment ca join card c on c.id = ca.card_id
              where ca.account_id = a.id
              group by c.currency order by count(*) desc, c.currency limit 1),
            (select p.currency from account p where p.id = a.parent_id))
           where a.kind <> 'carrier' and a.depth = level;
        end loop;
        update account set credit_blocked = true
         where credit_limit is not null and balance + credit_limit <= 0;
      end $$;`);
    this.addSql(`alter table "account" enable trigger account_change_log_required;`);
    this.addSql(`alter table "account" alter column "currency" set not null;`);

    for (const sql of widenWholeCatalogGroups(CATALOG_BEFORE_MONEY, NEW_GRANTS)) this.addSql(sql);
  }

  override async down(): Promise<void> {
    for (const sql of withdrawGrants(NEW_GRANTS)) this.addSql(sql);
    this.addSql(`alter table "account" drop column "currency", drop column "credit_blocked";`);
    this.addSql(`drop table if exists "ledger_entry" cascade;`);
    this.addSql(`drop function if exists ledger_append_only();`);
  }
}
