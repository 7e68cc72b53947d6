import { Migration } from '@mikro-orm/migrations';

/**
 * The change log (audit trail and live-event source) and customers' read-only balance.
 * By hand: a trigger that keeps the log append-only, whoever writes to it.
 */
export class Migration20261128082150 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "change_log" ("seq" bigserial primary key, "at" timestamptz not null, "actor_user_id" uuid null, "actor_account_id" uuid null, "impersonator_user_id" uuid null, "resource" varchar(40) not null, "entity_id" uuid not null, "op" text check ("op" in ('created', 'updated', 'deleted')) not null, "version" int null, "before" jsonb null, "after" jsonb null, "scope_before" text null, "scope_after" text null, "summary" jsonb null);`,
    );
    this.addSql(`create index "change_log_entity_id_index" on "change_log" ("entity_id");`);
    this.addSql(
      `create index "change_log_scope_after_index" on "change_log" ("scope_after" text_pattern_ops);`,
    );
    this.addSql(
      `create index "change_log_scope_before_index" on "change_log" ("scope_before" text_pattern_ops);`,
    );

    this.addSql(`create function change_log_append_only() returns trigger language plpgsql as $$
      begin raise exception 'change_log is append-only'; end $$;`);
    this.addSql(
      `create trigger change_log_append_only before update or delete on "change_log" for each row execute function change_log_append_only();`,
    );

    this.addSql(`alter table "account" add column "balance" numeric(18,6) not null default '0';`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "change_log" cascade;`);
    this.addSql(`drop function if exists change_log_append_only();`);

    this.addSql(`alter table "account" drop column "balance";`);
  }
}
