import { Migration } from '@mikro-orm/migrations';

/**
 * The sign-in throttle's per-IP budget (password spraying) and the throttle on guesses at
 * one's own current password; an index on each expiry column, for pruning.
 */
export class Migration20261201100000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "login_ip_throttle" ("ip" varchar(64) not null, "failures" int not null, "window_ends_at" timestamptz not null, "updated_at" timestamptz not null, constraint "login_ip_throttle_pkey" primary key ("ip"));`,
    );
    this.addSql(
      `create index "login_ip_throttle_window_ends_at_index" on "login_ip_throttle" ("window_ends_at");`,
    );
    this.addSql(
      `create table "password_change_throttle" ("user_id" uuid not null, "failures" int not null, "next_allowed_at" timestamptz not null, "updated_at" timestamptz not null, constraint "password_change_throttle_pkey" primary key ("user_id"));`,
    );
    this.addSql(
      `create index "password_change_throttle_next_allowed_at_index" on "password_change_throttle" ("next_allowed_at");`,
    );
    this.addSql(
      `create index "login_throttle_next_allowed_at_index" on "login_throttle" ("next_allowed_at");`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop index "login_throttle_next_allowed_at_index";`);
    this.addSql(`drop table if exists "password_change_throttle" cascade;`);
    this.addSql(`drop table if exists "login_ip_throttle" cascade;`);
  }
}
