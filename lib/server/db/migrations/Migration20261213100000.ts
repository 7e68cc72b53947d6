import { Migration } from '@mikro-orm/migrations';

/**
 * A brand's logo (issue 19), by hand and read and written in SQL only
 * (lib/server/services/brands/brand-logo.ts), like the brand itself.
 * - `brand_logo`: at most one per brand, keyed by the brand's account, and gone with
 *   the brand (or the account). The bytes are stored whole (at most 256 KiB: a logo,
 *   not a library); an SVG only as the sanitiser rebuilt it. `sha256` is the hash of
 *   those bytes: the public URL serves by it, so it is indexed (not unique: two brands
 *   may upload one file).
 * - The commit guard of the logged tables (as Migration20261128191000 left it), keyed
 *   by `account_id`: a logo changes only with its brand's change-log row (resource
 *   `brands`), whatever writes it.
 */
export class Migration20261213100000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "brand_logo" (
      "account_id" uuid primary key references "brand" ("id") on update cascade on delete cascade,
      "content_type" varchar(20) not null
        check ("content_type" in ('image/png', 'image/webp', 'image/svg+xml')),
      "bytes" bytea not null,
      "sha256" char(64) not null check ("sha256" ~ '^[0-9a-f]{64}$'),
      "byte_size" int not null check ("byte_size" between 1 and 262144
        and "byte_size" = octet_length("bytes")),
      "updated_at" timestamptz not null);`);
    this.addSql(`create index "brand_logo_sha256_index" on "brand_logo" ("sha256");`);
    this
      .addSql(`create function brand_logo_change_log_required() returns trigger language plpgsql as $$
declare
  entity uuid := case when tg_op = 'DELETE' then old.account_id else new.account_id end;
begin
  if not exists (
    select 1 from change_log where entity_id = entity and txid = txid_current()
  ) then
    raise exception 'change to brand_logo.% committed without its change-log row', entity
      using hint = 'write it through mutate() and record() the change',
            errcode = 'integrity_constraint_violation';
  end if;
  return null;
end $$;`);
    this.addSql(
      `create constraint trigger "brand_logo_change_log_required" after insert or update or delete on "brand_logo" deferrable initially deferred for each row execute function brand_logo_change_log_required();`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "brand_logo" cascade;`);
    this.addSql(`drop function if exists brand_logo_change_log_required();`);
  }
}
