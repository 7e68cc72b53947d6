import { Migration } from '@mikro-orm/migrations';
import { CATALOG_BEFORE_USAGE, widenWholeCatalogGroups, withdrawGrants } from './grant-catalog';

/** The grant issue 18 adds for switches, and the catalog before it (a group holding all of it). */
const NEW_GRANTS = ['calls:authorize'];

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
    for (const sql of widenWholeCatalogGroups(CATALOG_BEFORE_USAGE, NEW_GRANTS)) this.addSql(sql);
  }

  override async down(): Promise<void> {
    for (const sql of withdrawGrants(NEW_GRANTS)) this.addSql(sql);
  }
}
