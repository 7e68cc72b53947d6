import { describe, expect, it } from 'vitest';
import { ALL_GRANTS } from '@/lib/shared/permissions';
import { useDatabaseMigratedTo } from '../fixtures/migrated-database';

/**
 * Migration20261207100000 on a database that already has groups: a group holding the
 * whole catalog as it was (a carrier's administrators) gains `usage:create` and
 * `usage:read`, so it keeps the whole catalog; every other group keeps exactly its grants
 * (the subset rule: nobody is handed a grant its group's owner did not choose).
 */
const BEFORE = 'Migration20261206200000';
const migrated = useDatabaseMigratedTo(BEFORE);
// Grants added later (brands, Migration20261209100000; statements, Migration20261211100000)
// were not in the catalog either.
const previousCatalog = ALL_GRANTS.filter(
  (grant) =>
    !grant.startsWith('usage:') && !grant.startsWith('brand:') && !grant.startsWith('statements:'),
);

describe('the usage grants migration', () => {
  it('adds the grants to whole-catalog groups only', async () => {
    const em = migrated.orm.em.fork();
    const carrier = crypto.randomUUID();
    const groups = {
      admins: { grants: previousCatalog },
      reseller: { grants: ['customers:read', 'ledger:read'] },
      almost: { grants: previousCatalog.filter((grant) => grant !== 'audit:delete') },
    };
    await em.transactional(async (tx) => {
      // Rows written as a data fix would be, outside the services (no change-log rows).
      await tx.execute(`set local session_replication_role = replica`);
      await tx.execute(
        `insert into account (id, kind, name, path, depth, currency, created_at, updated_at)
         values (?, 'carrier', 'C', ?, 0, 'EUR', now(), now())`,
        [carrier, `${carrier}/`],
      );
      for (const [name, { grants }] of Object.entries(groups)) {
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
    expect(after.reseller).toEqual([...groups.reseller.grants].sort());
    expect(after.almost).toEqual([...groups.almost.grants].sort());
  });
});
