import { Migration } from '@mikro-orm/migrations';

/**
 * The sign-in throttle's budget per email across addresses (a guessing botnet: each
 * address stays under its own pair curve and IP budget), and the addresses each email
 * last signed in from, which that budget spares (lib/server/auth/throttle.ts). A spent
 * budget tells its person, at most once a day (`paused_notice_for`: the window told of).
 * Last sign-ins are kept to the millisecond (`timestamptz(3)`), as cursors hold them.
 */
export class Migration20261226100000 extends Migration {
  override async up(): Promise<void> {
    // The users list sorts by the last sign-in, and its cursor holds a time to the
    // millisecond (as JSON has it): the column keeps no finer, whoever writes it.
    this.addSql(
      `alter table "app_user" alter column "last_login_at" type timestamptz(3) using date_trunc('milliseconds', "last_login_at");`,
    );
    this.addSql(
      `create table "login_account_throttle" ("email" varchar(320) not null, "failures" int not null, "window_ends_at" timestamptz not null, "updated_at" timestamptz not null, "paused_notice_for" timestamptz null, constraint "login_account_throttle_pkey" primary key ("email"));`,
    );
    this.addSql(
      `create index "login_account_throttle_window_ends_at_index" on "login_account_throttle" ("window_ends_at");`,
    );
    this.addSql(
      `create table "login_known_address" ("email" varchar(320) not null, "ip" varchar(64) not null, "signed_in_at" timestamptz not null, constraint "login_known_address_pkey" primary key ("email", "ip"));`,
    );
    this.addSql(
      `create index "login_known_address_signed_in_at_index" on "login_known_address" ("signed_in_at");`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "app_user" alter column "last_login_at" type timestamptz(6);`);
    this.addSql(`drop table if exists "login_known_address" cascade;`);
    this.addSql(`drop table if exists "login_account_throttle" cascade;`);
  }
}
