import { Migration } from '@mikro-orm/migrations';

/** API tokens (hashes only) and the shared sign-in throttle. */
export class Migration20261128084134 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "login_throttle" ("email" varchar(320) not null, "ip" varchar(64) not null, "failures" int not null, "next_allowed_at" timestamptz not null, "updated_at" timestamptz not null, constraint "login_throttle_pkey" primary key ("email", "ip"));`,
    );

    this.addSql(
      `create table "api_token" ("id" uuid not null, "user_id" uuid not null, "name" varchar(120) not null, "token_hash" varchar(64) not null, "session_version" int not null, "expires_at" timestamptz not null, "last_used_at" timestamptz null, "created_at" timestamptz not null, constraint "api_token_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "api_token_user_id_index" on "api_token" ("user_id");`);
    this.addSql(
      `alter table "api_token" add constraint "api_token_token_hash_unique" unique ("token_hash");`,
    );

    this.addSql(
      `alter table "api_token" add constraint "api_token_user_id_foreign" foreign key ("user_id") references "app_user" ("id") on update cascade on delete cascade;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "login_throttle" cascade;`);

    this.addSql(`drop table if exists "api_token" cascade;`);
  }
}
