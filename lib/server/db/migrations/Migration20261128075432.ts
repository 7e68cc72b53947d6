import { Migration } from '@mikro-orm/migrations';

/**
 * Foundation: the account tree, groups and users.
 * Written by `migration:create --initial`, then extended by hand with what the entity
 * definitions cannot express: the tree's own foreign key and shape checks, and the
 * prefix index that makes a subtree one indexed scan.
 */
export class Migration20261128075432 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "account" ("id" uuid not null, "kind" text check ("kind" in ('carrier', 'reseller', 'customer')) not null, "name" varchar(200) not null, "email" varchar(320) null, "parent_id" uuid null, "path" text not null, "depth" smallint not null, "status" text check ("status" in ('active', 'suspended')) not null default 'active', "credit_limit" numeric(18,6) null, "version" int not null default 1, "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint "account_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "account_parent_id_index" on "account" ("parent_id");`);
    this.addSql(
      `alter table "account" add constraint "account_parent_id_foreign" foreign key ("parent_id") references "account" ("id") on update cascade on delete restrict;`,
    );
    // Carriers are roots; everything else hangs under a parent. The path ends with the
    // account's own id, and its depth is the number of ancestors.
    this.addSql(
      `alter table "account" add constraint "account_tree_shape_check" check ((("kind" = 'carrier') = ("parent_id" is null)) and "depth" >= 0 and "path" like '%' || "id"::text || '/');`,
    );
    // `path LIKE 'prefix%'` uses this index whatever the database collation is.
    this.addSql(
      `create unique index "account_path_prefix_index" on "account" ("path" text_pattern_ops);`,
    );

    this.addSql(
      `create table "user_group" ("id" uuid not null, "account_id" uuid not null, "name" varchar(120) not null, "grants" text[] not null, "template" varchar(60) null, "version" int not null default 1, "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint "user_group_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "user_group_account_id_index" on "user_group" ("account_id");`);
    this.addSql(
      `alter table "user_group" add constraint "user_group_account_id_name_unique" unique ("account_id", "name");`,
    );

    this.addSql(
      `create table "app_user" ("id" uuid not null, "account_id" uuid not null, "group_id" uuid not null, "email" varchar(320) not null, "name" varchar(200) not null, "password_hash" text not null, "status" text check ("status" in ('active', 'disabled')) not null default 'active', "must_change_password" boolean not null default false, "session_version" int not null default 1, "last_login_at" timestamptz null, "version" int not null default 1, "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint "app_user_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "app_user_account_id_index" on "app_user" ("account_id");`);
    this.addSql(`create index "app_user_group_id_index" on "app_user" ("group_id");`);
    this.addSql(`alter table "app_user" add constraint "app_user_email_unique" unique ("email");`);
    // Emails are compared lower-cased; storing them so keeps the unique index honest.
    this.addSql(
      `alter table "app_user" add constraint "app_user_email_lower_check" check ("email" = lower("email"));`,
    );

    this.addSql(
      `alter table "user_group" add constraint "user_group_account_id_foreign" foreign key ("account_id") references "account" ("id") on update cascade on delete restrict;`,
    );
    this.addSql(
      `alter table "app_user" add constraint "app_user_account_id_foreign" foreign key ("account_id") references "account" ("id") on update cascade on delete restrict;`,
    );
    this.addSql(
      `alter table "app_user" add constraint "app_user_group_id_foreign" foreign key ("group_id") references "user_group" ("id") on update cascade on delete restrict;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "app_user" cascade;`);
    this.addSql(`drop table if exists "user_group" cascade;`);
    this.addSql(`drop table if exists "account" cascade;`);
  }
}
