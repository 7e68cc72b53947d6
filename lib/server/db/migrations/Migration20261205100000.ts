import { Migration } from '@mikro-orm/migrations';

/**
 * By hand: rate-card revisions (issue 16 §2). `rate` stays the live set, so lookups and
 * lists read what they read before; `rate_revision` lists each card's revisions with the
 * instant each goes live, and `rate_history` keeps every revision's rows as intervals —
 * a row is in revisions `from_rev` up to (not including) `to_rev` — so a revision stores
 * only the rows it adds or changes and closes the ones it removes or changes (52 weekly
 * revisions of a 100k deck stay close to one deck plus what changed; README).
 *
 * The database refuses what the API refuses: a revision going live in the past, and a
 * new or changed row of an imported or written deck taking effect in the past (it would
 * silently rewrite prices already charged).
 */
export class Migration20261205100000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `alter table "card" add column "min_notice_hours" int null constraint "card_min_notice_hours_check" check (min_notice_hours between 0 and 8760);`,
    );
    this.addSql(
      `create table "rate_revision" (
         "id" bigserial primary key,
         "card_id" uuid not null references "card" ("id") on update cascade on delete cascade,
         "number" int not null,
         "live_at" timestamptz not null,
         "created_at" timestamptz not null default now(),
         "created_by" uuid null,
         "source" text not null check ("source" in ('initial', 'put', 'import', 'parent', 'markup', 'rollback')),
         "previous" int null,
         "based_on" int null,
         "parent_revision_id" bigint null references "rate_revision" ("id") on delete cascade,
         "applied_at" timestamptz null,
         "cancelled_at" timestamptz null,
         "rows" int not null default 0,
         "losing" int not null default 0,
         "added" int not null default 0,
         "removed" int not null default 0,
         "increased" int not null default 0,
         "decreased" int not null default 0,
         "changed" int not null default 0,
         "unchanged" int not null default 0,
         constraint "rate_revision_card_number_unique" unique ("card_id", "number"));`,
    );
    this.addSql(
      `create index "rate_revision_pending" on "rate_revision" ("live_at") where applied_at is null and cancelled_at is null;`,
    );
    this.addSql(
      `create index "rate_revision_parent" on "rate_revision" ("parent_revision_id") where parent_revision_id is not null;`,
    );
    // No surrogate key: at 100k rows a revision, every byte a row counts. Three indexes:
    // prefixes (a lookup at an instant), and the rows a revision opened and closed (its
    // diff, and the writer's close of the open set), each a range of one card.
    this.addSql(
      `create table "rate_history" (
         "card_id" uuid not null,
         "prefix" varchar(20) not null,
         "effective_from" timestamptz null,
         "from_rev" int not null,
         "to_rev" int null,
         "rate" numeric(18,6) not null,
         "connection_fee" numeric(18,6) not null,
         "initial_increment" int not null,
         "increment" int not null,
         "grace_seconds" int not null,
         "blocked" boolean not null,
         "overridden" boolean not null,
         "losing" boolean not null,
         "destination" varchar(120) not null);`,
    );
    this.addSql(
      `create index "rate_history_card_prefix" on "rate_history" ("card_id", "prefix", "from_rev");`,
    );
    this.addSql(`create index "rate_history_opened" on "rate_history" ("card_id", "from_rev");`);
    this.addSql(`create index "rate_history_closed" on "rate_history" ("card_id", "to_rev");`);
    // Every card's current set becomes its revision 1, live since the card was created
    // (nothing older is known).
    this.addSql(
      `insert into rate_revision (card_id, number, live_at, source, applied_at, rows, losing, added)
       select c.id, 1, c.created_at, 'initial', now(), c.rate_count, c.losing_rates, c.rate_count from card c;`,
    );
    this.addSql(
      `insert into rate_history (card_id, prefix, effective_from, from_rev, to_rev, rate, connection_fee,
         initial_increment, increment, grace_seconds, blocked, overridden, losing, destination)
       select card_id, prefix, effective_from, 1, null, rate, connection_fee, initial_increment,
              increment, grace_seconds, blocked, overridden, losing, destination from rate;`,
    );
    this.addSql(
      `create function rate_revision_not_past() returns trigger language plpgsql as $$
       begin
         if new.live_at < now() then
           raise exception 'a rate revision cannot go live in the past (%)', new.live_at
             using errcode = 'check_violation', schema = 'public', table = 'rate_revision',
                   column = 'live_at', constraint = 'rate_revision_live_at_not_past';
         end if;
         return new;
       end $$;`,
    );
    this.addSql(
      `create trigger "rate_revision_not_past" before insert or update of "live_at" on "rate_revision" for each row execute function rate_revision_not_past();`,
    );
    this.addSql(
      `create function rate_history_not_retroactive() returns trigger language plpgsql as $$
       declare
         late record;
       begin
         select h.card_id, h.prefix, h.effective_from into late
           from history_rows h
           join rate_revision r on r.card_id = h.card_id and r.number = h.from_rev
          where r.source in ('put', 'import') and h.effective_from < now()
          limit 1;
         if found then
           raise exception 'a new or changed rate cannot take effect in the past (prefix %, %)', late.prefix, late.effective_from
             using errcode = 'check_violation', schema = 'public', table = 'rate_history',
                   column = 'effective_from', constraint = 'rate_history_effective_from_not_past';
         end if;
         return null;
       end $$;`,
    );
    this.addSql(
      `create trigger "rate_history_not_retroactive" after insert on "rate_history" referencing new table as history_rows for each statement execute function rate_history_not_retroactive();`,
    );
    // A card's history goes with it, as its live rates do (no per-row foreign key).
    this.addSql(
      `create function card_history_cascade() returns trigger language plpgsql as $$
       begin
         if tg_op = 'TRUNCATE' then
           truncate rate_history;
         elsif tg_op = 'DELETE' then
           delete from rate_history where card_id = old.id;
         else
           update rate_history set card_id = new.id where card_id = old.id;
         end if;
         return null;
       end $$;`,
    );
    this.addSql(
      `create trigger "card_history_delete" after delete on "card" for each row execute function card_history_cascade();`,
    );
    this.addSql(
      `create trigger "card_history_move" after update of id on "card" for each row when (old.id is distinct from new.id) execute function card_history_cascade();`,
    );
    this.addSql(
      `create trigger "card_history_truncate" after truncate on "card" for each statement execute function card_history_cascade();`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop trigger "card_history_truncate" on "card";`);
    this.addSql(`drop trigger "card_history_move" on "card";`);
    this.addSql(`drop trigger "card_history_delete" on "card";`);
    this.addSql(`drop function card_history_cascade();`);
    this.addSql(`drop table "rate_history";`);
    this.addSql(`drop table "rate_revision";`);
    this.addSql(`drop function rate_history_not_retroactive();`);
    this.addSql(`drop function rate_revision_not_past();`);
    this.addSql(`alter table "card" drop column "min_notice_hours";`);
  }
}
