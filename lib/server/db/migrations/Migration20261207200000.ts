import { Migration } from '@mikro-orm/migrations';

/** The grant issue 18 adds for switches, and the catalog before it (a group holding all of it). */
const NEW_GRANTS = ['calls:authorize'];
const OLD_CATALOG = [
  ...[
    'resellers',
    'customers',
    'users',
    'groups',
    'cards',
    'rates',
    'assignments',
    'audit',
  ].flatMap((resource) =>
    ['read', 'create', 'update', 'delete'].map((action) => `${resource}:${action}`),
  ),
  'impersonation:start',
  'payments:create',
  'ledger:read',
];
const textArray = (values: string[]) => `array[${values.map((v) => `'${v}'`).join(', ')}]::text[]`;

/**
 * Call authorization for switches (issue 18): a group holding the whole catalog as it
 * was (a carrier's administrators) gains `calls:authorize`, so the catalog stays whole
 * for it and its admins can hand the grant to a switch's group; every other group keeps
 * its grants (the subset rule: nobody is handed a grant its group's owner did not
 * choose), the Default Reseller template included. No schema change: the decision reads
 * the account, card and rate tables as they are.
 */
export class Migration20261207200000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "user_group" disable trigger user_group_change_log_required;`);
    this.addSql(
      `update "user_group" set "grants" = "grants" || ${textArray(NEW_GRANTS)} where "grants" @> ${textArray(OLD_CATALOG)} and not "grants" && ${textArray(NEW_GRANTS)};`,
    );
    this.addSql(`alter table "user_group" enable trigger user_group_change_log_required;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "user_group" disable trigger user_group_change_log_required;`);
    this.addSql(
      `update "user_group" set "grants" = array(select g from unnest("grants") g where g <> all(${textArray(NEW_GRANTS)}));`,
    );
    this.addSql(`alter table "user_group" enable trigger user_group_change_log_required;`);
  }
}
