import { Migration } from '@mikro-orm/migrations';

/**
 * By hand: every committed change to a logged table has its change-log row (DESIGN §2,
 * "writes that bypass ORM hooks must still produce their events"). A deferred constraint
 * trigger checks, at commit, that the transaction wrote a log row for each row it
 * inserted, updated or deleted in `account`, `app_user` and `user_group` — whatever wrote
 * it: the ORM, its query builder or raw SQL. "This transaction's" rows are those stamped
 * with its timestamp: `now()` is fixed per transaction, savepoints included, and
 * `mutate()` stamps `at` with it. Columns named as arguments may change alone
 * without a row (sign-in statistics, never part of an entity's API shape).
 */
export class Migration20261128111500 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create function change_log_required() returns trigger language plpgsql as $$
declare
  entity uuid := case when tg_op = 'DELETE' then old.id else new.id end;
begin
  if tg_op = 'UPDATE' and (to_jsonb(new) - tg_argv) = (to_jsonb(old) - tg_argv) then
    return null;
  end if;
  if not exists (
    select 1 from change_log
     where entity_id = entity and at = now()
  ) then
    raise exception 'change to %.% committed without its change-log row', tg_table_name, entity
      using hint = 'write it through mutate() and record() the change',
            errcode = 'integrity_constraint_violation';
  end if;
  return null;
end $$;`);
    for (const [table, exempt] of [
      ['account', ''],
      ['app_user', `'last_login_at'`],
      ['user_group', ''],
    ]) {
      this.addSql(
        `create constraint trigger "${table}_change_log_required" after insert or update or delete on "${table}" deferrable initially deferred for each row execute function change_log_required(${exempt});`,
      );
    }
  }

  override async down(): Promise<void> {
    for (const table of ['account', 'app_user', 'user_group']) {
      this.addSql(`drop trigger if exists "${table}_change_log_required" on "${table}";`);
    }
    this.addSql(`drop function if exists change_log_required();`);
  }
}
