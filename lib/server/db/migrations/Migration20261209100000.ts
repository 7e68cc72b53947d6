import { Migration } from '@mikro-orm/migrations';
import { CATALOG_BEFORE_BRANDS, widenWholeCatalogGroups, withdrawGrants } from './grant-catalog';

/** The grants issue 19's brands add, and the catalog before them (a group holding all of it). */
const NEW_GRANTS = ['brand:read', 'brand:update'];

/**
 * Brands (issue 19, first slice), by hand: read and written by SQL only
 * (lib/server/services/brands), so no entities (like the usage tables).
 * - `brand`: at most one per account, so its key is the account's id (a brand is
 *   deleted with its account, in the same transaction and under the same change-log
 *   row's id). Colours lower-case `#rrggbb`; the contrast rule is the service's (it
 *   answers with the ratio), the shape is also the database's.
 * - `brand_hostname`: the hostnames a brand answers on; the key is the hostname, so one
 *   belongs to one brand across the whole installation, whichever carrier asks.
 *   Lower-case DNS names (labels of letters, digits and inner hyphens; a last label
 *   starting with a letter, so never an IP address), no port, no scheme.
 * - `brand` has the commit guard of the other logged tables: every change is in the
 *   change log (resource `brands`). A hostname change always bumps its brand's version.
 * - The grants for groups holding the whole catalog as it was (a carrier's
 *   administrators); every other group keeps its grants (the subset rule).
 */
export class Migration20261209100000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "brand" (
      "id" uuid primary key references "account" ("id") on update cascade on delete cascade,
      "display_name" varchar(80) not null check (char_length("display_name") between 1 and 80),
      "primary_color" varchar(7) not null check ("primary_color" ~ '^#[0-9a-f]{6}$'),
      "accent_color" varchar(7) not null check ("accent_color" ~ '^#[0-9a-f]{6}$'),
      "support_email" varchar(320) null,
      "support_url" varchar(2000) null check ("support_url" like 'https://%'),
      "version" int not null default 1,
      "created_at" timestamptz not null,
      "updated_at" timestamptz not null);`);
    this.addSql(`create table "brand_hostname" (
      "hostname" varchar(253) primary key
        check ("hostname" ~ '^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$'),
      "brand_id" uuid not null references "brand" ("id") on update cascade on delete cascade);`);
    this.addSql(`create index "brand_hostname_brand_index" on "brand_hostname" ("brand_id");`);
    this.addSql(
      `create constraint trigger "brand_change_log_required" after insert or update or delete on "brand" deferrable initially deferred for each row execute function change_log_required();`,
    );

    for (const sql of widenWholeCatalogGroups(CATALOG_BEFORE_BRANDS, NEW_GRANTS)) this.addSql(sql);
  }

  override async down(): Promise<void> {
    for (const sql of withdrawGrants(NEW_GRANTS)) this.addSql(sql);
    this.addSql(`drop table if exists "brand_hostname" cascade;`);
    this.addSql(`drop table if exists "brand" cascade;`);
  }
}
