import { Migration } from '@mikro-orm/migrations';

/**
 * By hand: commit order per carrier (issue 14, item 9). Every log row gets its carrier
 * (the first id on its scope path; a carrier's own entry names it) and its position in
 * that carrier's order, numbered here in `seq` order, which was commit order for the
 * whole installation and so is for each carrier. `carrier_log_head` keeps each carrier's
 * last position. The access index moves to positions. The log is append-only, so its
 * guard steps aside for this one rewrite.
 */
export class Migration20261203100000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "carrier_log_head" ("carrier_id" uuid not null, "seq" bigint not null, constraint "carrier_log_head_pkey" primary key ("carrier_id"));`,
    );
    this.addSql(
      `alter table "change_log" add column "carrier_id" uuid null, add column "carrier_seq" bigint null;`,
    );
    this.addSql(`alter table "change_log" disable trigger change_log_append_only;`);
    // A row with no scope and no carrier of its own is dated to its actor's carrier;
    // none is known to exist, and the nil id keeps the column total if one does.
    this.addSql(
      `update "change_log" c set "carrier_id" = coalesce(
         nullif(split_part(coalesce(c.scope_after, c.scope_before), '/', 1), '')::uuid,
         case when c.resource = 'carriers' then c.entity_id end,
         (select nullif(split_part(a.path, '/', 1), '')::uuid from account a where a.id = c.actor_account_id),
         '00000000-0000-0000-0000-000000000000'::uuid);`,
    );
    this.addSql(
      `update "change_log" c set "carrier_seq" = n.position
         from (select seq, row_number() over (partition by carrier_id order by seq) as position
                 from "change_log") n
        where n.seq = c.seq;`,
    );
    this.addSql(`alter table "change_log" enable trigger change_log_append_only;`);
    this.addSql(
      `alter table "change_log" alter column "carrier_id" set not null, alter column "carrier_seq" set not null;`,
    );
    this.addSql(
      `alter table "change_log" add constraint "change_log_carrier_position_unique" unique ("carrier_id", "carrier_seq");`,
    );
    this.addSql(
      `insert into "carrier_log_head" ("carrier_id", "seq")
       select carrier_id, max(carrier_seq) from "change_log" group by carrier_id;`,
    );
    this.addSql(`drop index "change_log_access_index";`);
    this.addSql(
      `create index "change_log_access_index" on "change_log" ("carrier_id", "carrier_seq") where affects_access;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop index "change_log_access_index";`);
    this.addSql(
      `create index "change_log_access_index" on "change_log" ("seq") where affects_access;`,
    );
    this.addSql(
      `alter table "change_log" drop constraint "change_log_carrier_position_unique", drop column "carrier_id", drop column "carrier_seq";`,
    );
    this.addSql(`drop table "carrier_log_head";`);
  }
}
