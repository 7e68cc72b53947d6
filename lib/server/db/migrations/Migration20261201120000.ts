import { Migration } from '@mikro-orm/migrations';

/**
 * Server-side sessions: the session cookie names a row here, so signing out or changing
 * one's password ends sessions on the server (issue 13 item 4). A user's rows go with it.
 */
export class Migration20261201120000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "user_session" ("id" uuid not null, "user_id" uuid not null, "created_at" timestamptz not null, "expires_at" timestamptz not null, "revoked_at" timestamptz null, constraint "user_session_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "user_session_user_id_index" on "user_session" ("user_id");`);
    this.addSql(
      `alter table "user_session" add constraint "user_session_user_id_foreign" foreign key ("user_id") references "app_user" ("id") on update cascade on delete cascade;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "user_session" cascade;`);
  }
}
