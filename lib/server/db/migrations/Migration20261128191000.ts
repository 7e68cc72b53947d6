import { Migration } from '@mikro-orm/migrations';

/**
 * By hand: the change log's `at` becomes the moment the row is written (the last step
 * before the commit, `clock_timestamp()`), not the transaction's start — a long
 * transaction dated its changes back, and "commit to socket" was measured from the wrong
 * end. The commit guard (Migration20261128111500) found "this transaction's" rows by
 * `at = now()`; it now finds them by the writing transaction's id, kept in `txid`
 * (`txid_current()` is the top-level id, savepoints included).
 */
/** The guard function, finding "this transaction's" rows by `match`. */
function guard(match: string): string {
  return `create or replace function change_log_required() returns trigger language plpgsql as $$
declare
  entity uuid := case when tg_op = 'DELETE' then old.id else new.id end;
begin
  if tg_op = 'UPDATE' and (to_jsonb(new) - tg_argv) = (to_jsonb(old) - tg_argv) then
    return null;
  end if;
  if not exists (
    select 1 from change_log
     where entity_id = entity and ${match}
  ) then
    raise exception 'change to %.% committed without its change-log row', tg_table_name, entity
      using hint = 'write it through mutate() and record() the change',
            errcode = 'integrity_constraint_violation';
  end if;
  return null;
end $$;`;
}

export class Migration20261128191000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `alter table "change_log" add column "txid" bigint not null default txid_current();`,
    );
    this.addSql(guard('txid = txid_current()'));
  }

  override async down(): Promise<void> {
    this.addSql(guard('at = now()'));
    this.addSql(`alter table "change_log" drop column "txid";`);
  }
}
