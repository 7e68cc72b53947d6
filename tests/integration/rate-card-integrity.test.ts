import { beforeEach, describe, expect, inject, it } from 'vitest';
import pg from 'pg';
import { useMigratedDatabase } from '../fixtures/migrated-database';
import { waitForLockWaiters } from '../fixtures/lock-waiters';
import { arrange } from '../fixtures/arrange';
import { rawLogInsert } from '../fixtures/raw-log';

/**
 * `rate_history.card_id` is held to `card` by a statement-level trigger, not a per-row
 * foreign key (Migration20261204100000 for `rate`, moved to history with the set stored
 * once, Migration20261220100000): every rule the foreign key kept, checked on the
 * database itself — what any writer, not only the panel's, meets. `rate`, the live set,
 * is a view of the card's live revision in history.
 */
const database = useMigratedDatabase();

const CARRIER = '00000000-0000-4000-8000-00000000c0de';
const MISSING = '00000000-0000-4000-8000-00000000dead';
let card: string;

async function addCard(): Promise<string> {
  const id = crypto.randomUUID();
  const em = database.orm.em.fork();
  await arrange(em, () =>
    em.execute(
      `insert into card (id, owner_id, name, currency, kind, created_at, updated_at)
       values (?, ?, 'Buy', 'EUR', 'provider', now(), now())`,
      [id, CARRIER],
    ),
  );
  return id;
}

/** History rows opened by revision `fromRev` (1 unless given), still open. */
const insertRates = (cardId: string, prefixes: string[], fromRev = 1) => ({
  sql: `insert into rate_history (card_id, prefix, destination, rate, connection_fee,
          initial_increment, increment, grace_seconds, blocked, overridden, losing, from_rev)
        select $1, p, 'Somewhere', 0.01, 0, 60, 60, 0, false, false, false, $3
          from unnest($2::text[]) p`,
  params: [cardId, prefixes, fromRev],
});

async function connect(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: database.db.url });
  await client.connect();
  return client;
}

async function sqlState(work: Promise<unknown>): Promise<{ code?: string; constraint?: string }> {
  try {
    await work;
  } catch (error) {
    return error as { code?: string; constraint?: string };
  }
  return {};
}

const orphans = async () => {
  const rows = await database.orm.em
    .fork()
    .execute<{ n: string }[]>(
      'select count(*) as n from rate_history r where not exists (select 1 from card c where c.id = r.card_id)',
    );
  return Number(rows[0]!.n);
};

beforeEach(async () => {
  const em = database.orm.em.fork();
  const found = await em.execute('select 1 from account where id = ?', [CARRIER]);
  if (!found.length) {
    await arrange(em, () =>
      em.execute(
        `insert into account (id, kind, name, path, depth, currency, created_at, updated_at)
         values (?, 'carrier', 'Carrier', ?, 0, 'EUR', now(), now())`,
        [CARRIER, `${CARRIER}/`],
      ),
    );
  }
  card = await addCard();
});

describe('rate_history.card_id names a card', () => {
  it('refuses an insert naming no card with 23503, the whole statement', async () => {
    const client = await connect();
    try {
      const { sql, params } = insertRates(MISSING, ['44', '45']);
      const error = await sqlState(client.query(sql, params));
      expect(error.code).toBe('23503');
      expect(error.constraint).toBe('rate_history_card_id_foreign');
      // One good card and one missing in the same statement: nothing of it stays.
      const mixed = await sqlState(
        client.query(
          `insert into rate_history (card_id, prefix, destination, rate, connection_fee,
             initial_increment, increment, grace_seconds, blocked, overridden, losing, from_rev)
           values ($1, '1', 'X', 0.01, 0, 60, 60, 0, false, false, false, 1),
                  ($2, '2', 'X', 0.01, 0, 60, 60, 0, false, false, false, 1)`,
          [card, MISSING],
        ),
      );
      expect(mixed.code).toBe('23503');
      const { rows } = await client.query(
        'select count(*)::int as n from rate_history where card_id = $1',
        [card],
      );
      expect(rows[0].n).toBe(0);
      const ok = insertRates(card, ['44']);
      await client.query(ok.sql, ok.params);
    } finally {
      await client.end();
    }
  });

  it('refuses moving a rate to no card with 23503', async () => {
    const client = await connect();
    try {
      const { sql, params } = insertRates(card, ['31']);
      await client.query(sql, params);
      const error = await sqlState(
        client.query('update rate_history set card_id = $1 where card_id = $2', [MISSING, card]),
      );
      expect(error.code).toBe('23503');
      expect(error.constraint).toBe('rate_history_card_id_foreign');
      expect(await orphans()).toBe(0);
    } finally {
      await client.end();
    }
  });

  it('deletes a card with its rates, moves them with its id, truncates them with it', async () => {
    const client = await connect();
    try {
      const { sql, params } = insertRates(card, ['32', '33']);
      await client.query(sql, params);
      const count = async (id: string) =>
        (await client.query('select count(*)::int as n from rate_history where card_id = $1', [id]))
          .rows[0].n as number;
      // Inside one transaction, rolled back: the card's change-log guard would refuse the
      // commit, and the cascade acts at once, before it.
      await client.query('begin');
      const moved = crypto.randomUUID();
      await client.query('update card set id = $1 where id = $2', [moved, card]);
      expect([await count(card), await count(moved)]).toEqual([0, 2]);
      await client.query('delete from card where id = $1', [moved]);
      expect(await count(moved)).toBe(0);
      await client.query('rollback');
      await client.query('begin');
      await client.query('truncate card cascade');
      expect((await client.query('select count(*)::int as n from rate_history')).rows[0].n).toBe(0);
      await client.query('rollback');
      expect(await count(card)).toBe(2);
    } finally {
      await client.end();
    }
  });

  // Two connections at once: the embedded database has one. Under CI the suite always
  // runs on a PostgreSQL server.
  const embedded = inject('testDatabase').kind === 'pglite';
  if (embedded) console.log('skipped on PGlite: one connection, nothing runs concurrently');

  /** The card's deletion as the panel commits it: with its change-log row. */
  const deleteCardSql = async (client: pg.Client, id: string) => {
    await client.query('delete from card where id = $1', [id]);
    const log = rawLogInsert({
      carrierId: CARRIER,
      resource: 'cards',
      entityId: id,
      op: 'deleted',
    });
    await client.query(log.sql, log.params);
  };

  it.skipIf(embedded)(
    'a card deleted while its rates are written: the delete waits, then takes them with it',
    async () => {
      const [writer, deleter] = [await connect(), await connect()];
      try {
        await writer.query('begin');
        const { sql, params } = insertRates(card, ['34', '35', '36']);
        await writer.query(sql, params);
        await deleter.query('begin');
        const deleting = deleteCardSql(deleter, card);
        await waitForLockWaiters(database.orm, 1);
        await writer.query('commit');
        await deleting;
        await deleter.query('commit');
        expect(await orphans()).toBe(0);
      } finally {
        await Promise.all([writer.end(), deleter.end()]);
      }
    },
  );

  it.skipIf(embedded)(
    'rates written while their card is being deleted: the write waits, then fails with 23503',
    async () => {
      const [writer, deleter] = [await connect(), await connect()];
      try {
        await deleter.query('begin');
        await deleteCardSql(deleter, card);
        await writer.query('begin');
        const { sql, params } = insertRates(card, ['37']);
        const writing = sqlState(writer.query(sql, params));
        await waitForLockWaiters(database.orm, 1);
        await deleter.query('commit');
        expect((await writing).code).toBe('23503');
        await writer.query('rollback');
        expect(await orphans()).toBe(0);
      } finally {
        await Promise.all([writer.end(), deleter.end()]);
      }
    },
  );

  it('refuses deleting a card at a snapshot isolation, where its cascade could miss rates', async () => {
    const client = await connect();
    try {
      await client.query('begin isolation level repeatable read');
      const error = await sqlState(client.query('delete from card where id = $1', [card]));
      expect(error.code).toBe('0A000');
      await client.query('rollback');
    } finally {
      await client.end();
    }
  });
});

describe('rate, the live set', () => {
  it("reads the card's rows at its live revision, and moves with it", async () => {
    const client = await connect();
    try {
      // Revision 1 opens 40, 41 and 42; revision 2 closes 41, changes 42 and adds 43.
      await client.query(
        insertRates(card, ['40', '41', '42']).sql,
        insertRates(card, ['40', '41', '42']).params,
      );
      await client.query(
        `update rate_history set to_rev = 2 where card_id = $1 and prefix in ('41', '42')`,
        [card],
      );
      const second = insertRates(card, ['42', '43'], 2);
      await client.query(second.sql, second.params);
      await client.query(
        `update rate_history set rate = 0.02 where card_id = $1 and from_rev = 2`,
        [card],
      );
      const live = async () =>
        (
          await client.query(
            'select prefix, rate::text from rate where card_id = $1 order by prefix',
            [card],
          )
        ).rows.map((row) => `${row.prefix}:${row.rate}`);
      expect(await live()).toEqual([]);
      // Rolled back: the card's change-log guard would refuse the commit.
      await client.query('begin');
      for (const [revision, rows] of [
        [1, ['40:0.010000', '41:0.010000', '42:0.010000']],
        [2, ['40:0.010000', '42:0.020000', '43:0.020000']],
      ] as const) {
        await client.query('update card set live_revision = $1 where id = $2', [revision, card]);
        expect(await live()).toEqual(rows);
      }
      await client.query('rollback');
    } finally {
      await client.end();
    }
  });
});
