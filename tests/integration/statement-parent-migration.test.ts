import { describe, expect, it } from 'vitest';
import { insertRawTree, useDatabaseMigratedTo } from '../fixtures/migrated-database';

/**
 * Migration20261214100000 on a database that already has statements: each gets the
 * parent it was issued under (its change-log row's path), else the one its account has now (`parent_id`, which decides who above reads it), a carrier's
 * own none; the issued statements stay final afterwards (the guards lifted for the fill
 * only). And Migration20261228100000 after it: the account's name as issued.
 */
const BEFORE = 'Migration20261213100000';
const migrated = useDatabaseMigratedTo(BEFORE);

describe('the statement parent migration', () => {
  it('names each statement’s parent as issued, else its account’s, and keeps them final', async () => {
    const [carrier, reseller, customer, earlier] = [1, 2, 3, 4].map(() => crypto.randomUUID()) as [
      string,
      string,
      string,
      string,
    ];
    await migrated.orm.em.fork().transactional(async (tx) => {
      // Rows written as a data fix would be, outside the services (no change-log rows).
      await tx.execute(`set local session_replication_role = replica`);
      await insertRawTree(tx, { carrier, reseller, customers: [customer] });
      // The customer's statement was issued under another reseller (moved since): its
      // issue's change-log row says so.
      await tx.execute(
        `insert into change_log (at, resource, entity_id, op, scope_after, carrier_id, carrier_seq, after)
         values (now(), 'statements', ?, 'created', ?, ?, 1, ?::jsonb)`,
        [
          customer,
          `${carrier}/${earlier}/${customer}/`,
          carrier,
          JSON.stringify({ accountName: 'Name As Issued' }),
        ],
      );
      for (const id of [carrier, reseller, customer]) {
        await tx.execute(
          `insert into statement (id, account_id, number, period_start, period_end, currency,
             opening_balance, usage_total, payments_total, credit_notes_total, adjustments_total,
             closing_balance, usage_lines, issuer, pdf, issued_at)
           values (?, ?, 1, '2026-11-01Z', '2026-12-01Z', 'EUR', 0, 0, 0, 0, 0, 0, '[]', '{}',
                   '\\x00', now())`,
          [id, id],
        );
      }
    });
    await migrated.orm.getMigrator().up();
    const rows = await migrated.orm.em
      .fork()
      .execute<{ account_id: string; parent_id: string | null }[]>(
        `select account_id, parent_id from statement`,
      );
    expect(Object.fromEntries(rows.map((row) => [row.account_id, row.parent_id]))).toEqual({
      [carrier]: null,
      [reseller]: carrier,
      [customer]: earlier,
    });
    await expect(
      migrated.orm.em
        .fork()
        .execute(`update statement set number = 2 where account_id = ?`, [customer]),
    ).rejects.toThrow(/final once issued/);
    // Migration20261228100000: each keeps the name it was issued under (its change-log
    // row's), else its account's now; numbered per parent from then on.
    const names = await migrated.orm.em
      .fork()
      .execute<{ account_id: string; account_name: string }[]>(
        `select account_id, account_name from statement`,
      );
    expect(Object.fromEntries(names.map((row) => [row.account_id, row.account_name]))).toEqual({
      [carrier]: 'carrier',
      [reseller]: 'reseller',
      [customer]: 'Name As Issued',
    });
    const constraint = await migrated.orm.em
      .fork()
      .execute<{ definition: string }[]>(
        `select pg_get_constraintdef(oid) as definition from pg_constraint where conname = 'statement_number_unique'`,
      );
    expect(constraint).toEqual([{ definition: 'UNIQUE (account_id, parent_id, number)' }]);
  });
});
