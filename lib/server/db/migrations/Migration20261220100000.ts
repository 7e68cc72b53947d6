import { Migration } from '@mikro-orm/migrations';

/**
 * By hand: a card's rate set is stored once (issue 14, rates). Since revisions
 * (Migration20261205100000) every set was written twice — into `rate_history`, and
 * copied whole into `rate`, the live set every reader used. The copy was the costliest
 * statement of an import or a derive (a 100,000-row set: 480–670 ms, against 230–620
 * for the history's own rows) and was made again each time a scheduled revision went
 * live. Now `card.live_revision` names the revision live on the card and `rate` is a
 * view of that revision's rows in history, so readers read what they read before and a
 * revision goes live by one update of its card.
 *
 * What `rate` enforced passes to history: a row names a card — checked once per
 * statement, locking the cards it names as a foreign key would (Migration20261204100000's
 * trigger, now on `rate_history`; a move to another card row by row, as it is rare) —
 * and a card is deleted at READ COMMITTED only, so its cascade sees every row committed
 * meanwhile. One row per prefix and effective time in a set is the writers' (their
 * staging, `rev_set`, is validated before it becomes a revision).
 */
export class Migration20261220100000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "card" add column "live_revision" int not null default 0;`);
    // The revision `rate` held: the latest applied (a card with no revision has none).
    // Not a change any panel is told of (what the cards read stays the same), so the
    // change-log guard is set aside for this one statement.
    this.addSql(`alter table "card" disable trigger "card_change_log_required";`);
    this.addSql(
      `update card c set live_revision = r.number
         from (select card_id, max(number) as number from rate_revision
                where applied_at is not null and cancelled_at is null group by card_id) r
        where r.card_id = c.id;`,
    );
    this.addSql(`alter table "card" enable trigger "card_change_log_required";`);
    this.addSql(`drop trigger "card_rates_truncate" on "card";`);
    this.addSql(`drop trigger "card_rates_move" on "card";`);
    this.addSql(`drop trigger "card_rates_delete" on "card";`);
    this.addSql(`drop function card_rates_cascade();`);
    this.addSql(`drop table "rate";`);
    this.addSql(`drop function rate_card_required();`);
    this.addSql(cardRequiredSql('rate_history'));
    this.addSql(
      `create trigger "rate_history_card_required_insert" after insert on "rate_history" referencing new table as rate_rows for each statement execute function rate_history_card_required();`,
    );
    this.addSql(
      `create function rate_history_card_moved() returns trigger language plpgsql as $$
       begin
         perform 1 from card c where c.id = new.card_id for key share;
         if not found then
           raise exception 'insert or update on table "rate_history" violates foreign key constraint "rate_history_card_id_foreign"'
             using errcode = 'foreign_key_violation',
                   detail = format('Key (card_id)=(%s) is not present in table "card".', new.card_id),
                   schema = 'public', table = 'rate_history', constraint = 'rate_history_card_id_foreign';
         end if;
         return new;
       end $$;`,
    );
    this.addSql(
      `create trigger "rate_history_card_moved" before update of card_id on "rate_history" for each row when (old.card_id is distinct from new.card_id) execute function rate_history_card_moved();`,
    );
    this.addSql(cardCascadeSql('rate_history', true));
    // The rows of the live revision: opened at or before it and not closed by it. A
    // revision scheduled later has closed rows with its own, later number, so they read
    // as live until it is.
    this.addSql(
      `create view "rate" as
       select h.card_id, h.prefix, h.destination, h.rate, h.connection_fee, h.initial_increment,
              h.increment, h.grace_seconds, h.minimum_seconds, h.effective_from, h.blocked,
              h.overridden, h.losing, h.priced_by
         from rate_history h
         join card c on c.id = h.card_id
        where h.from_rev <= c.live_revision
          and (h.to_rev is null or h.to_rev > c.live_revision);`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop view "rate";`);
    this.addSql(`drop trigger "rate_history_card_moved" on "rate_history";`);
    this.addSql(`drop function rate_history_card_moved();`);
    this.addSql(`drop trigger "rate_history_card_required_insert" on "rate_history";`);
    this.addSql(`drop function rate_history_card_required();`);
    this.addSql(cardCascadeSql('rate_history', false));
    this.addSql(
      `create table "rate" (
         "id" bigserial primary key,
         "card_id" uuid not null,
         "prefix" varchar(20) not null,
         "destination" varchar(120) not null,
         "rate" numeric(18,6) not null,
         "connection_fee" numeric(18,6) not null default '0',
         "initial_increment" int not null default 60,
         "increment" int not null default 60,
         "grace_seconds" int not null default 0,
         "minimum_seconds" int not null default 0,
         "effective_from" timestamptz null,
         "blocked" boolean not null default false,
         "overridden" boolean not null default false,
         "losing" boolean not null default false,
         "priced_by" uuid null);`,
    );
    this.addSql(
      `create unique index "rate_card_prefix_unique" on "rate" ("card_id", "prefix", coalesce(effective_from, '-infinity'::timestamp with time zone));`,
    );
    this.addSql(
      `insert into rate (card_id, prefix, destination, rate, connection_fee, initial_increment,
                         increment, grace_seconds, minimum_seconds, effective_from, blocked,
                         overridden, losing, priced_by)
       select h.card_id, h.prefix, h.destination, h.rate, h.connection_fee, h.initial_increment,
              h.increment, h.grace_seconds, h.minimum_seconds, h.effective_from, h.blocked,
              h.overridden, h.losing, h.priced_by
         from rate_history h join card c on c.id = h.card_id
        where h.from_rev <= c.live_revision and (h.to_rev is null or h.to_rev > c.live_revision)
        order by h.card_id, h.prefix;`,
    );
    this.addSql(cardRequiredSql('rate'));
    this.addSql(
      `create trigger "rate_card_required_insert" after insert on "rate" referencing new table as rate_rows for each statement execute function rate_card_required();`,
    );
    this.addSql(
      `create trigger "rate_card_required_update" after update on "rate" referencing new table as rate_rows for each statement execute function rate_card_required();`,
    );
    this.addSql(cardCascadeSql('rate', true).replace('card_history_cascade', 'card_rates_cascade'));
    this.addSql(
      `create trigger "card_rates_delete" after delete on "card" for each row execute function card_rates_cascade();`,
    );
    this.addSql(
      `create trigger "card_rates_move" after update of id on "card" for each row when (old.id is distinct from new.id) execute function card_rates_cascade();`,
    );
    this.addSql(
      `create trigger "card_rates_truncate" after truncate on "card" for each statement execute function card_rates_cascade();`,
    );
    this.addSql(`alter table "card" drop column "live_revision";`);
  }
}

/**
 * The statement-level check that every row names a card (Migration20261204100000), for
 * `table`: its function `<table>_card_required` (for `rate`, `rate_card_required`).
 */
function cardRequiredSql(table: 'rate' | 'rate_history'): string {
  const name = table === 'rate' ? 'rate_card_required' : 'rate_history_card_required';
  return `create function ${name}() returns trigger language plpgsql as $$
       declare
         missing uuid;
       begin
         select n.card_id into missing
           from (select distinct card_id from rate_rows) n
           left join lateral (select c.id from card c where c.id = n.card_id for key share) c on true
          where c.id is null
          limit 1;
         if found then
           raise exception 'insert or update on table "${table}" violates foreign key constraint "${table}_card_id_foreign"'
             using errcode = 'foreign_key_violation',
                   detail = format('Key (card_id)=(%s) is not present in table "card".', missing),
                   schema = 'public', table = '${table}', constraint = '${table}_card_id_foreign';
         end if;
         return null;
       end $$;`;
}

/**
 * A card's rows deleted, moved or truncated with it: `card_history_cascade` for
 * `rate_history` (replaced; `readCommitted` adds the isolation check `rate`'s had).
 */
function cardCascadeSql(table: 'rate' | 'rate_history', readCommitted: boolean): string {
  const check = readCommitted
    ? `if current_setting('transaction_isolation') <> 'read committed' then
             raise exception 'delete a card at READ COMMITTED'
               using errcode = 'feature_not_supported',
                     hint = 'its rates are removed by a trigger, which sees rates committed since the transaction began only at READ COMMITTED';
           end if;`
    : '';
  return `create or replace function card_history_cascade() returns trigger language plpgsql as $$
       begin
         if tg_op = 'TRUNCATE' then
           truncate ${table};
         elsif tg_op = 'DELETE' then
           ${check}
           delete from ${table} where card_id = old.id;
         else
           update ${table} set card_id = new.id where card_id = old.id;
         end if;
         return null;
       end $$;`;
}
