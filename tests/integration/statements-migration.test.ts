import { describe, expect, it } from 'vitest';
import { ALL_GRANTS, DEFAULT_RESELLER_GRANTS } from '@/lib/shared/permissions';
import { useDatabaseMigratedTo } from '../fixtures/migrated-database';

/**
 * Migration20261211100000 on a database that already has groups: a group holding the
 * whole catalog as it was (a carrier's administrators) gains `statements:read`
 * and `statements:create`; every other group — one made from the Default Reseller template before
 * the template listed them included — keeps exactly its grants (the subset rule).
 * Migrated on to the latest, the admins also gain the grants of later migrations
 * (`adjustments:create`, Migration20261224200000), which did not exist then either.
 */
const BEFORE = 'Migration20261209100000';
const migrated = useDatabaseMigratedTo(BEFORE);
const notStatements = (grant: string) =>
  !grant.startsWith('statements:') && grant !== 'adjustments:create';

describe('the statement grants migration', () => {
  it('adds the grants to whole-catalog groups only', async () => {
    const carrier = crypto.randomUUID();
    const groups = {
      admins: ALL_GRANTS.filter(notStatements),
      template: DEFAULT_RESELLER_GRANTS.filter(notStatements),
      almost: ALL_GRANTS.filter(notStatements).filter((grant) => grant !== 'brand:update'),
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
