import { describe, expect, it } from 'vitest';
import { insertRawTree, useDatabaseMigratedTo } from '../fixtures/migrated-database';

/**
 * Migration20261216300000 on a database where customers were moved already: each takes
 * the time of its last transfer in the change log as `placed_at` (calls before it are of
 * its time under its old parent); an account never moved keeps none.
 */
const BEFORE = 'Migration20261216200000';
const migrated = useDatabaseMigratedTo(BEFORE);

describe('the placed-at migration', () => {
  it('dates each moved customer’s placement by its last transfer, and no other', async () => {
    const [carrier, reseller, moved, stayed] = [1, 2, 3, 4].map(() => crypto.randomUUID()) as [
      string,
      string,
      string,
      string,
    ];
    await migrated.orm.em.fork().transactional(async (tx) => {
      // Rows written as a data fix would be, outside the services.
      await tx.execute(`set local session_replication_role = replica`);
      await insertRawTree(tx, { carrier, reseller, customers: [moved, stayed] });
      const entries = [
        [moved, '2026-11-02T10:00:00Z', { reason: 'transfer' }],
        [moved, '2026-11-20T08:30:00.123456Z', { reason: 'transfer' }],
        [moved, '2026-11-25T00:00:00Z', { reason: 'ledger', kind: 'payment' }],
        [stayed, '2026-11-21T00:00:00Z', null],
      ] as const;
      for (const [index, [id, at, summary]] of entries.entries()) {
        await tx.execute(
          `insert into change_log (at, resource, entity_id, op, summary, carrier_id, carrier_seq)
           values (?::timestamptz, 'customers', ?, 'updated', ?::jsonb, ?, ?)`,
          [at, id, summary ? JSON.stringify(summary) : null, carrier, index + 1],
        );
      }
    });
    await migrated.orm.getMigrator().up();
    const rows = await migrated.orm.em
      .fork()
      .execute<{ id: string; placed: string | null }[]>(
        `select id, to_char(placed_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') as placed from account`,
      );
    expect(Object.fromEntries(rows.map((row) => [row.id, row.placed]))).toEqual({
      [carrier]: null,
      [reseller]: null,
      [moved]: '2026-11-20T08:30:00.123456',
      [stayed]: null,
    });
  });
});
