import { Migration } from '@mikro-orm/migrations';

/**
 * By hand: the typed change model (lib/server/live/change-log.ts). The audience hints
 * leave the public summary for their own column, and whether an entry changed someone's
 * access is stored once, when it is written (`affects_access`), instead of being guessed
 * from the resource and a magic summary string. Existing rows: the hints move, and the
 * flag is set where the old index predicate held, plus ended sessions and revoked tokens
 * (superset of the precise rule: readers filter by resource and subject as well). The
 * log is append-only, so its guard steps aside for this one rewrite.
 */
export class Migration20261202100000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `alter table "change_log" add column "audience" jsonb null, add column "affects_access" boolean not null default false;`,
    );
    this.addSql(`alter table "change_log" disable trigger change_log_append_only;`);
    this.addSql(
      `update "change_log" set "audience" = "summary" -> 'audience', "summary" = nullif("summary" - 'audience', '{}'::jsonb) where "summary" ? 'audience';`,
    );
    this.addSql(
      `update "change_log" set "affects_access" = true where resource in ('users', 'groups', 'impersonation') or (resource in ('sessions', 'tokens') and op = 'deleted') or ("summary" ->> 'reason') = 'status_cascade';`,
    );
    this.addSql(`alter table "change_log" enable trigger change_log_append_only;`);
    this.addSql(`drop index "change_log_access_index";`);
    this.addSql(
      `create index "change_log_access_index" on "change_log" ("seq") where affects_access;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop index "change_log_access_index";`);
    this.addSql(
      `create index "change_log_access_index" on "change_log" ("seq") where resource = 'users' or resource = 'groups' or resource = 'impersonation' or (summary ->> 'reason') = 'status_cascade';`,
    );
    this.addSql(`alter table "change_log" disable trigger change_log_append_only;`);
    this.addSql(
      `update "change_log" set "summary" = coalesce("summary", '{}'::jsonb) || jsonb_build_object('audience', "audience") where "audience" is not null;`,
    );
    this.addSql(`alter table "change_log" enable trigger change_log_append_only;`);
    this.addSql(`alter table "change_log" drop column "audience", drop column "affects_access";`);
  }
}
