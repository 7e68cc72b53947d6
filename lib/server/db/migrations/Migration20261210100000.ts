import { Migration } from '@mikro-orm/migrations';

/**
 * Sessions bound to the host they signed in on (issue 19, white-label portals): a
 * reseller's portal and the carrier's main URL are different sites, and a cookie that
 * leaked from one must not open a session on another. The door compares the request's
 * hostname with this column; a session opened before (null) names nobody, so everyone
 * signs in once more after the upgrade rather than keeping an unbound session.
 */
export class Migration20261210100000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "user_session" add column "host" varchar(253) null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "user_session" drop column "host";`);
  }
}
