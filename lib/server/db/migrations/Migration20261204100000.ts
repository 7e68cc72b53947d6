import { Migration } from '@mikro-orm/migrations';

/**
 * By hand: `rate.card_id` checked once per statement instead of once per row (issue 14,
 * rates). The foreign key ran one RI trigger call per row — 100,000 queued events and
 * lookups per import or derive, a third of the insert's time — while a statement names
 * one card. Its rules stay whole, as triggers:
 *
 * - an insert or update of `rate` naming no card fails with 23503 under the old
 *   constraint's name, after locking every card it names FOR KEY SHARE as the foreign
 *   key did, so a card deleted meanwhile makes the statement fail (READ COMMITTED: the
 *   lock waits for the delete and then finds no row) or waits for it to commit (the
 *   deleter's cascade then sees the new rows);
 * - deleting a card deletes its rates, changing its id moves them, truncating it
 *   truncates them (ON DELETE / ON UPDATE CASCADE, TRUNCATE … CASCADE);
 * - a card is deleted only at READ COMMITTED: at a snapshot isolation the cascade could
 *   not see rates committed after its snapshot (the foreign key's cross-check did), and
 *   the panel deletes no other way.
 */
export class Migration20261204100000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "rate" drop constraint "rate_card_id_foreign";`);
    // Transition tables (one per event: PostgreSQL takes no transition table on a
    // multi-event trigger); the update check covers every updated row, not only moved ones.
    this.addSql(
      `create function rate_card_required() returns trigger language plpgsql as $$
       declare
         missing uuid;
       begin
         select n.card_id into missing
           from (select distinct card_id from rate_rows) n
           left join lateral (select c.id from card c where c.id = n.card_id for key share) c on true
          where c.id is null
          limit 1;
         if found then
           raise exception 'insert or update on table "rate" violates foreign key constraint "rate_card_id_foreign"'
             using errcode = 'foreign_key_violation',
                   detail = format('Key (card_id)=(%s) is not present in table "card".', missing),
                   schema = 'public', table = 'rate', constraint = 'rate_card_id_foreign';
         end if;
         return null;
       end $$;`,
    );
    this.addSql(
      `create trigger "rate_card_required_insert" after insert on "rate" referencing new table as rate_rows for each statement execute function rate_card_required();`,
    );
    this.addSql(
      `create trigger "rate_card_required_update" after update on "rate" referencing new table as rate_rows for each statement execute function rate_card_required();`,
    );
    this.addSql(
      `create function card_rates_cascade() returns trigger language plpgsql as $$
       begin
         if tg_op = 'TRUNCATE' then
           truncate rate;
         elsif tg_op = 'DELETE' then
           if current_setting('transaction_isolation') <> 'read committed' then
             raise exception 'delete a card at READ COMMITTED'
               using errcode = 'feature_not_supported',
                     hint = 'its rates are removed by a trigger, which sees rates committed since the transaction began only at READ COMMITTED';
           end if;
           delete from rate where card_id = old.id;
         else
           update rate set card_id = new.id where card_id = old.id;
         end if;
         return null;
       end $$;`,
    );
    this.addSql(
      `create trigger "card_rates_delete" after delete on "card" for each row execute function card_rates_cascade();`,
    );
    this.addSql(
      `create trigger "card_rates_move" after update of id on "card" for each row when (old.id is distinct from new.id) execute function card_rates_cascade();`,
    );
    this.addSql(
      `create trigger "card_rates_truncate" after truncate on "card" for each statement execute function card_rates_cascade();`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop trigger "card_rates_truncate" on "card";`);
    this.addSql(`drop trigger "card_rates_move" on "card";`);
    this.addSql(`drop trigger "card_rates_delete" on "card";`);
    this.addSql(`drop function card_rates_cascade();`);
    this.addSql(`drop trigger "rate_card_required_update" on "rate";`);
    this.addSql(`drop trigger "rate_card_required_insert" on "rate";`);
    this.addSql(`drop function rate_card_required();`);
    this.addSql(
      `alter table "rate" add constraint "rate_card_id_foreign" foreign key ("card_id") references "card" ("id") on update cascade on delete cascade;`,
    );
  }
}
