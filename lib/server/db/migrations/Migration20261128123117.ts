import { Migration } from '@mikro-orm/migrations';

/**
 * Rate cards, their rates and assignments (DESIGN §1 "Rate cards"), generated from the
 * entities, plus by hand the change-log guard on the new logged tables. `rate` is not guarded row by row
 * (100k deferred trigger events per import): every rate writer moves its card's version
 * in the same transaction, and the card is guarded.
 */
export class Migration20261128123117 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "card" ("id" uuid not null, "owner_id" uuid not null, "name" varchar(200) not null, "currency" varchar(3) not null, "kind" text check ("kind" in ('provider', 'customer')) not null, "decimals" smallint not null default 4, "rounding" text check ("rounding" in ('half_up', 'half_even', 'up', 'down')) not null default 'half_up', "parent_id" uuid null, "markup_percent" numeric(12,6) null, "markup_fixed" numeric(18,6) null, "overrides" jsonb null, "rate_count" int not null default 0, "losing_rates" int not null default 0, "version" int not null default 1, "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint "card_pkey" primary key ("id"), constraint card_decimals_check check (((decimals >= 4) AND (decimals <= 6))));`,
    );
    this.addSql(`create index "card_owner_id_index" on "card" ("owner_id");`);
    this.addSql(`create index "card_parent_id_index" on "card" ("parent_id");`);

    this.addSql(
      `create table "card_assignment" ("id" uuid not null, "card_id" uuid not null, "account_id" uuid not null, "exclusive" boolean not null, "version" int not null default 1, "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint "card_assignment_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "card_assignment_card_id_index" on "card_assignment" ("card_id");`);
    this.addSql(
      `create index "card_assignment_account_id_index" on "card_assignment" ("account_id");`,
    );
    this.addSql(
      `create unique index "card_assignment_one_per_customer" on "card_assignment" ("account_id") where exclusive;`,
    );
    this.addSql(
      `alter table "card_assignment" add constraint "card_assignment_card_id_account_id_unique" unique ("card_id", "account_id");`,
    );

    this.addSql(
      `create table "rate" ("id" bigserial primary key, "card_id" uuid not null, "prefix" varchar(20) not null, "destination" varchar(120) not null, "rate" numeric(18,6) not null, "connection_fee" numeric(18,6) not null default '0', "initial_increment" int not null default 60, "increment" int not null default 60, "grace_seconds" int not null default 0, "effective_from" timestamptz null, "blocked" boolean not null default false, "overridden" boolean not null default false, "losing" boolean not null default false);`,
    );
    this.addSql(
      `create unique index "rate_card_prefix_unique" on "rate" ("card_id", "prefix", coalesce(effective_from, '-infinity'::timestamp with time zone));`,
    );

    this.addSql(
      `alter table "card" add constraint "card_owner_id_foreign" foreign key ("owner_id") references "account" ("id") on update cascade on delete restrict;`,
    );
    this.addSql(
      `alter table "card" add constraint "card_parent_id_foreign" foreign key ("parent_id") references "card" ("id") on update cascade on delete restrict;`,
    );

    this.addSql(
      `alter table "card_assignment" add constraint "card_assignment_card_id_foreign" foreign key ("card_id") references "card" ("id") on update cascade on delete restrict;`,
    );
    this.addSql(
      `alter table "card_assignment" add constraint "card_assignment_account_id_foreign" foreign key ("account_id") references "account" ("id") on update cascade on delete restrict;`,
    );

    this.addSql(
      `alter table "rate" add constraint "rate_card_id_foreign" foreign key ("card_id") references "card" ("id") on update cascade on delete cascade;`,
    );

    for (const table of ['card', 'card_assignment']) {
      this.addSql(
        `create constraint trigger "${table}_change_log_required" after insert or update or delete on "${table}" deferrable initially deferred for each row execute function change_log_required();`,
      );
    }
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "card" drop constraint "card_parent_id_foreign";`);

    this.addSql(`alter table "card_assignment" drop constraint "card_assignment_card_id_foreign";`);

    this.addSql(`alter table "rate" drop constraint "rate_card_id_foreign";`);

    this.addSql(`drop table if exists "card" cascade;`);

    this.addSql(`drop table if exists "card_assignment" cascade;`);

    this.addSql(`drop table if exists "rate" cascade;`);
  }
}
