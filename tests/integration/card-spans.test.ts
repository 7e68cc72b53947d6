import { describe, expect, inject, it } from 'vitest';
import type { EntityManager } from '@mikro-orm/postgresql';
import { insertRawTree, useMigratedDatabase } from '../fixtures/migrated-database';

/**
 * `customer_card_span` (Migration20261217100000), which rating, the price trace and
 * authorize read to know the card a customer held when a call started: kept by a row
 * trigger on `card_assignment`, whatever writes it, and never a span that ends before it
 * begins — even when a transaction that began earlier replaces a card another committed
 * meanwhile. Rows are written here as SQL would (the services' change-log guard set
 * aside for this file's own database), so the trigger alone is under test.
 */
const database = useMigratedDatabase();
const [carrier, reseller, customer] = [1, 2, 3].map(() => crypto.randomUUID()) as [
  string,
  string,
  string,
];
const cards = [1, 2, 3].map(() => crypto.randomUUID()) as [string, string, string];

async function setUp(tx: EntityManager): Promise<void> {
  await tx.execute(`set local session_replication_role = replica`);
  await insertRawTree(tx, { carrier, reseller, customers: [customer] });
  for (const [index, id] of cards.entries()) {
    await tx.execute(
      `insert into card (id, owner_id, name, currency, kind, created_at, updated_at)
       values (?, ?, ?, 'EUR', 'customer', now(), now())`,
      [id, reseller, `card ${index}`],
    );
  }
}

const assign = (tx: EntityManager, card: string) =>
  tx.execute(
    `insert into card_assignment (id, card_id, account_id, exclusive, created_at, updated_at)
     values (gen_random_uuid(), ?, ?, true, now(), now())`,
    [card, customer],
  );
const unassign = (tx: EntityManager) =>
  tx.execute(`delete from card_assignment where account_id = ?`, [customer]);

async function spans() {
  const rows = await database.orm.em
    .fork()
    .execute<{ card_id: string; from_ms: string; to_ms: string | null }[]>(
      `select card_id, extract(epoch from from_at) * 1000 as from_ms,
            extract(epoch from to_at) * 1000 as to_ms
       from customer_card_span where account_id = ? order by from_at`,
      [customer],
    );
  return rows.map((row) => ({
    card_id: row.card_id,
    from: Number(row.from_ms),
    to: row.to_ms === null ? null : Number(row.to_ms),
  }));
}

describe('a customer’s card spans', () => {
  it('open and close with every assignment written, one after the other', async () => {
    const em = database.orm.em.fork();
    await em.transactional(async (tx) => {
      await setUp(tx);
    });
    await em.execute(
      `alter table card_assignment disable trigger card_assignment_change_log_required`,
    );
    await em.fork().transactional((tx) => assign(tx, cards[0]));
    // A replacement in one transaction: the old span ends as (or just before) the new begins.
    await em.fork().transactional(async (tx) => {
      await unassign(tx);
      await assign(tx, cards[1]);
    });
    const [first, second] = await spans();
    expect([first!.card_id, second!.card_id]).toEqual([cards[0], cards[1]]);
    expect(first!.to).not.toBeNull();
    expect(first!.to!).toBeLessThanOrEqual(second!.from);
    expect(second!.to).toBeNull();
  });

  // The embedded database has one connection: the two transactions cannot overlap there.
  // Under CI the suite always runs on a PostgreSQL server.
  const embedded = inject('testDatabase').kind === 'pglite';
  if (embedded) console.log('skipped on PGlite: one connection serialises the transactions');
  it.skipIf(embedded)(
    'never end before they begin when an earlier transaction replaces a later one’s card',
    async () => {
      const em = database.orm.em.fork();
      // Transaction X begins (its transaction time is now), then waits while another
      // commits card 2 in place of card 1; X then replaces card 2 with card 3.
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let begun!: () => void;
      const started = new Promise<void>((resolve) => (begun = resolve));
      const x = em.fork().transactional(async (tx) => {
        await tx.execute('select now()');
        begun();
        await gate;
        await unassign(tx);
        await assign(tx, cards[2]);
      });
      await started;
      await new Promise((resolve) => setTimeout(resolve, 20));
      await em.fork().transactional(async (tx) => {
        await unassign(tx);
        await assign(tx, cards[0]);
      });
      release();
      await x;
      const all = await spans();
      expect(all.map((span) => span.card_id)).toEqual([cards[0], cards[1], cards[0], cards[2]]);
      for (const span of all)
        if (span.to !== null) expect(span.to).toBeGreaterThanOrEqual(span.from);
      expect(all.filter((span) => span.to === null).map((span) => span.card_id)).toEqual([
        cards[2],
      ]);
    },
  );

  it('go with their card: a deleted card was never held', async () => {
    const em = database.orm.em.fork();
    // Its foreign key acts as in any delete (a replica role would skip it too).
    await em.execute(`alter table card disable trigger card_change_log_required`);
    // Held or not by what ran before (the race above is skipped on PGlite): its
    // assignment goes first, as its foreign key requires; its span stays until the card.
    await em.execute(`delete from card_assignment where card_id = ?`, [cards[1]]);
    expect((await spans()).map((span) => span.card_id)).toContain(cards[1]);
    await em.execute(`delete from card where id = ?`, [cards[1]]);
    expect((await spans()).map((span) => span.card_id)).not.toContain(cards[1]);
  });
});
