import { describe, expect, it } from 'vitest';
import { insertRawTree, useDatabaseMigratedTo } from '../fixtures/migrated-database';

/**
 * Migration20261231100000 on a database with suspended accounts: each is suspended from
 * the latest log entry that suspended it (a call before then is charged), one the log
 * never saw suspended from the beginning of time (its calls stay unrated, as before the
 * migration); an active account has no suspension. (The trigger that keeps them from
 * then on is usage-rules.test.ts's, through the API.)
 */
const BEFORE = 'Migration20261230300000';
const migrated = useDatabaseMigratedTo(BEFORE);

describe('the suspension migration', () => {
  it('dates each suspension by its log entry, else from the beginning', async () => {
    const [carrier, reseller, logged, unlogged, active] = [1, 2, 3, 4, 5].map(() =>
      crypto.randomUUID(),
    ) as [string, string, string, string, string];
    await migrated.orm.em.fork().transactional(async (tx) => {
      await tx.execute(`set local session_replication_role = replica`);
      await insertRawTree(tx, { carrier, reseller, customers: [logged, unlogged, active] });
      await tx.execute(`update account set status = 'suspended' where id in (?, ?)`, [
        logged,
        unlogged,
      ]);
      const entries = [
        // Suspended, resumed, suspended again: the last suspension counts.
        [logged, '2026-11-02T10:00:00Z', 'active', 'suspended'],
        [logged, '2026-11-03T10:00:00Z', 'suspended', 'active'],
        [logged, '2026-11-20T08:30:00.123456Z', 'active', 'suspended'],
        // A rename while suspended is no suspension.
        [logged, '2026-11-25T00:00:00Z', 'suspended', 'suspended'],
        [active, '2026-11-21T00:00:00Z', 'active', 'suspended'],
        [active, '2026-11-22T00:00:00Z', 'suspended', 'active'],
      ] as const;
      for (const [index, [id, at, before, after]] of entries.entries()) {
        await tx.execute(
          `insert into change_log (at, resource, entity_id, op, before, after, carrier_id, carrier_seq)
           values (?::timestamptz, 'customers', ?, 'updated', ?::jsonb, ?::jsonb, ?, ?)`,
          [
            at,
            id,
            JSON.stringify({ status: before }),
            JSON.stringify({ status: after }),
            carrier,
            index + 1,
          ],
        );
      }
    });
    await migrated.orm.getMigrator().up();
    const spans = async () =>
      (
        await migrated.orm.em.fork().execute<{ id: string; since: string; until: string | null }[]>(
          `select account_id as id,
                  case when from_at = '-infinity' then '-infinity'
                       else to_char(from_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') end as since,
                  to_at is not null as until
             from account_suspension order by account_id, from_at`,
        )
      ).map((row) => [row.id, row.since, row.until]);
    expect((await spans()).sort()).toEqual(
      [
        [logged, '2026-11-20T08:30:00.123456', false],
        [unlogged, '-infinity', false],
      ].sort(),
    );
  });
});
