import { Migration } from '@mikro-orm/migrations';

/** Impersonation ("view as") sessions, kept as history. */
export class Migration20261128085017 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "impersonation" ("id" uuid not null, "impersonator_user_id" uuid not null, "target_user_id" uuid not null, "reason" varchar(500) not null, "started_at" timestamptz not null, "expires_at" timestamptz not null, "ended_at" timestamptz null, constraint "impersonation_pkey" primary key ("id"));`,
    );
    this.addSql(
      `create index "impersonation_impersonator_user_id_index" on "impersonation" ("impersonator_user_id");`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "impersonation" cascade;`);
  }
}
