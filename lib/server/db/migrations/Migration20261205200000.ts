import { Migration } from '@mikro-orm/migrations';

/**
 * The notification centre and the e-mail outbox (lib/server/entities/notification.entity.ts),
 * generated from the entities. Neither table carries the change-log guard: a notice is
 * the consequence of a change that is logged (and is itself recorded for live delivery
 * by `notifyAccounts`), and the outbox is the server's own queue.
 */
export class Migration20261205200000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "notification" ("id" uuid not null, "user_id" uuid not null, "account_id" uuid not null, "kind" varchar(60) not null, "title" varchar(200) not null, "body" text not null, "link" varchar(500) null, "data" jsonb null, "read_at" timestamptz null, "created_at" timestamptz not null, constraint "notification_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "notification_account_id_index" on "notification" ("account_id");`);
    this.addSql(
      `create index "notification_user_created_index" on "notification" ("user_id", "created_at" desc, "id" desc);`,
    );
    this.addSql(
      `create index "notification_user_unread_index" on "notification" ("user_id") where read_at is null;`,
    );
    this.addSql(
      `create table "outbox" ("id" uuid not null, "notification_id" uuid null, "to_address" varchar(320) not null, "subject" varchar(200) not null, "body_text" text not null, "link" varchar(500) null, "status" text check ("status" in ('pending', 'sent', 'failed')) not null default 'pending', "attempts" int not null default 0, "next_attempt_at" timestamptz not null, "last_error" text null, "sent_at" timestamptz null, "created_at" timestamptz not null, constraint "outbox_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "outbox_notification_id_index" on "outbox" ("notification_id");`);
    this.addSql(
      `create index "outbox_pending_index" on "outbox" ("next_attempt_at") where status = 'pending';`,
    );
    this.addSql(
      `alter table "notification" add constraint "notification_user_id_foreign" foreign key ("user_id") references "app_user" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "notification" add constraint "notification_account_id_foreign" foreign key ("account_id") references "account" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "outbox" add constraint "outbox_notification_id_foreign" foreign key ("notification_id") references "notification" ("id") on update cascade on delete set null;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "outbox" cascade;`);
    this.addSql(`drop table if exists "notification" cascade;`);
  }
}
