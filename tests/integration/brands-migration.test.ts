import { describe, expect, it } from 'vitest';
import { ALL_GRANTS, DEFAULT_RESELLER_GRANTS } from '@/lib/shared/permissions';
import { useDatabaseMigratedTo } from '../fixtures/migrated-database';

/**
 * Migration20261209100000 on a database that already has groups: a group holding the
 * whole catalog as it was (a carrier's administrators) gains `brand:read` and
 * `brand:update`; every other group — one made from the Default Reseller template before
 * the template listed them included — keeps exactly its grants (the subset rule).
 */
const BEFORE = 'Migration20261208130500';
const migrated = useDatabaseMigratedTo(BEFORE);
// Statements' grants (Migration20261211100000) came later: not in the catalog then either.
const notBrand = (grant: string) => !grant.startsWith('brand:') && !grant.startsWith('statements:');

describe('the brand grants migration', () => {
  it('adds the grants to whole-catalog groups only', async () => {
    const carrier = crypto.randomUUID();
    const groups = {
      admins: ALL_GRANTS.filter(notBrand),
      template: DEFAULT_RESELLER_GRANTS.filter(notBrand),
      almost: ALL_GRANTS.filter(notBrand).filter((grant) => grant !== 'calls:authorize'),
    };
    await migrated.orm.em.fork().transactional(async (tx) => {
      // Rows written as a data fix would be, outside the services (no change-log rows).
      await tx.execute(`set local session_replication_role = replica`);
      await tx.execute(
        `insert into account (id, kind, name, path, depth, currency, created_at, updated_at)
         values (?, 'carrier', 'C', ?, 0, 'EUR', now(), now())`,
        [carrier, `${carrier}/`],
      );
      for (const [name, grants] of Object.entries(groups)) {
        await tx.execute(
          `insert into user_group (id, account_id, name, grants, created_at, updated_at)
           values (?, ?, ?, ?::text[], now(), now())`,
          [crypto.randomUUID(), carrier, name, `{${grants.join(',')}}`],
        );
      }
    });
    await migrated.orm.getMigrator().up();
    const rows = await migrated.orm.em
      .fork()
      .execute<{ name: string; grants: string[] }[]>(`select name, grants from user_group`);
    const after = Object.fromEntries(rows.map((row) => [row.name, [...row.grants].sort()]));
    expect(after.admins).toEqual([...ALL_GRANTS].sort());
    expect(after.template).toEqual([...groups.template].sort());
    expect(after.almost).toEqual([...groups.almost].sort());
  });
});
