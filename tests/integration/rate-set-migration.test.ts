import { describe, expect, it } from 'vitest';
import { useDatabaseMigratedTo } from '../fixtures/migrated-database';

/**
 * Migration20261220100000 on a database with rate cards: `rate`, the live set stored as
 * a table, becomes a view of each card's live revision in history. Every card reads
 * the same rows afterwards — one with a revision scheduled for later (its closed rows
 * still live), one with a cancelled revision, one never written — and the cards keep
 * their change-log guard.
 */
const migrated = useDatabaseMigratedTo('Migration20261219100000');

const COLUMNS = `card_id, prefix, destination, rate::text, connection_fee::text, initial_increment,
  increment, grace_seconds, minimum_seconds, effective_from, blocked, overridden, losing, priced_by`;

describe('the rate set stored once', () => {
  it('keeps every card’s live rows, and its guard', async () => {
    const em = migrated.orm.em.fork();
    const carrier = crypto.randomUUID();
    const [scheduled, cancelled, empty] = [
      crypto.randomUUID(),
      crypto.randomUUID(),
      crypto.randomUUID(),
    ];
    await em.transactional(async (tx) => {
      // Rows written as a data fix would be, outside the services (no change-log rows).
      await tx.execute(`set local session_replication_role = replica`);
      await tx.execute(
        `insert into account (id, kind, name, path, depth, currency, created_at, updated_at)
         values (?, 'carrier', 'C', ?, 0, 'EUR', now(), now())`,
        [carrier, `${carrier}/`],
      );
      for (const id of [scheduled, cancelled, empty]) {
        await tx.execute(
          `insert into card (id, owner_id, name, currency, kind, created_at, updated_at)
           values (?, ?, 'Buy', 'EUR', 'provider', now(), now())`,
          [id, carrier],
        );
      }
      // Revision 1 applied, 2 applied (changes 42), 3 scheduled tomorrow (closes 40),
      // on the first card; 1 applied and 2 cancelled (its rows withdrawn) on the second.
      await tx.execute(
        `insert into rate_revision (card_id, number, live_at, source, applied_at, cancelled_at)
         values (?, 1, now(), 'put', now(), null), (?, 2, now(), 'put', now(), null),
                (?, 3, now() + interval '1 day', 'put', null, null),
                (?, 1, now(), 'put', now(), null),
                (?, 2, now() + interval '1 day', 'put', null, now())`,
        [scheduled, scheduled, scheduled, cancelled, cancelled],
      );
      const history = (
        card: string,
        prefix: string,
        rate: string,
        from: number,
        to: number | null,
      ) =>
        tx.execute(
          `insert into rate_history (card_id, prefix, effective_from, from_rev, to_rev, rate,
             connection_fee, initial_increment, increment, grace_seconds, blocked, overridden,
             losing, destination, minimum_seconds)
           values (?, ?, null, ?, ?, ?, 0, 60, 60, 0, false, false, false, 'Somewhere', 0)`,
          [card, prefix, from, to, rate],
        );
      await history(scheduled, '40', '0.0100', 1, 3);
      await history(scheduled, '41', '0.0110', 1, null);
      await history(scheduled, '42', '0.0120', 1, 2);
      await history(scheduled, '42', '0.0125', 2, null);
      await history(cancelled, '50', '0.0200', 1, null);
      // The live set as the table held it.
      await tx.execute(
        `insert into rate (card_id, prefix, destination, rate, connection_fee, initial_increment,
           increment, grace_seconds, minimum_seconds, effective_from, blocked, overridden, losing)
         select card_id, prefix, destination, rate, connection_fee, initial_increment, increment,
                grace_seconds, minimum_seconds, effective_from, blocked, overridden, losing
           from rate_history h
          where (card_id = ? and (to_rev is null or to_rev > 2) and from_rev <= 2)
             or (card_id = ? and from_rev <= 1 and (to_rev is null or to_rev > 1))`,
        [scheduled, cancelled],
      );
    });
    const live = () =>
      migrated.orm.em
        .fork()
        .execute(`select ${COLUMNS} from rate order by card_id, prefix, effective_from`);
    const before = await live();
    expect(before).toHaveLength(4);
    await migrated.orm.getMigrator().up();
    expect(await live()).toEqual(before);
    const cards = await migrated.orm.em
      .fork()
      .execute<{ id: string; live_revision: number }[]>(`select id, live_revision from card`);
    expect(Object.fromEntries(cards.map((row) => [row.id, row.live_revision]))).toEqual({
      [scheduled]: 2,
      [cancelled]: 1,
      [empty]: 0,
    });
    // The migration set its rows aside; a change without its log row is still refused.
    await expect(
      migrated.orm.em.fork().execute(`update card set name = 'Renamed' where id = ?`, [empty]),
    ).rejects.toThrow(/without its change-log row/);
  });
});
