import { Migration } from '@mikro-orm/migrations';
import {
  CATALOG_BEFORE_ADJUSTMENTS,
  widenWholeCatalogGroups,
  withdrawGrants,
} from './grant-catalog';

/**
 * `adjustments:create`: credit notes and signed adjustments of a balance below
 * (`POST /accounts/{id}/adjustments`). A group holding the whole catalog gains it; every
 * other group keeps its grants (grant-catalog.ts).
 */
const NEW_GRANTS = ['adjustments:create'];

export class Migration20261224200000 extends Migration {
  override async up(): Promise<void> {
    for (const sql of widenWholeCatalogGroups(CATALOG_BEFORE_ADJUSTMENTS, NEW_GRANTS)) {
      this.addSql(sql);
    }
  }

  override async down(): Promise<void> {
    for (const sql of withdrawGrants(NEW_GRANTS)) this.addSql(sql);
  }
}
