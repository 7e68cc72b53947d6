import { Migration } from '@mikro-orm/migrations';

/**
 * A call record's id is unique per poster (the account whose switch sent it), not per
 * carrier. Per carrier, anyone the carrier let post (`usage:create` given to a reseller's
 * group) could send ids the carrier's own switch would send later: its calls, for any
 * customer, were then answered as duplicates of the reseller's and never charged (or,
 * with other facts, refused whole). Each poster's ids are its own now; a replay is found
 * among the poster's records only.
 *
 * The new key's index is built under the table's lock in the migration's transaction:
 * on a large `usage_record` rating waits for it (run it in a quiet hour, or build the
 * index `concurrently` by hand first and attach it with `using index`). `down()` fails once
 * two posters share an id.
 */
export class Migration20261214200000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "usage_record" drop constraint "usage_record_cdr_unique";`);
    this.addSql(
      `alter table "usage_record" add constraint "usage_record_cdr_unique" unique ("poster_account_id", "cdr_id");`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "usage_record" drop constraint "usage_record_cdr_unique";`);
    this.addSql(
      `alter table "usage_record" add constraint "usage_record_cdr_unique" unique ("carrier_id", "cdr_id");`,
    );
  }
}
