/**
 * How much room a year of weekly revisions takes (README, "Rate revisions"): a scratch
 * PostgreSQL database, the demo carrier seeded, then 52 revisions of a 100k-row deck
 * through the panel's own writer (`writeRateRows`), each changing a share of the rates
 * and adding and removing a few prefixes, as a carrier's weekly deck does. Prints the
 * size of the history kept (`rate`, the live set, is a view of it).
 *
 *   npx tsx scripts/revision-space.ts [rows=100000] [weeks=52] [changedPercent=5]
 */
import pg from 'pg';
import { migrate, openOrm } from '@/lib/server/db/orm';
import { seedIfEmpty } from '@/lib/server/db/seed';
import { Card } from '@/lib/server/entities';
import { mutate } from '@/lib/server/live/change-log';
import { recordRevisionApplied, writeRateRows } from '@/lib/server/services/rates/rate-sets';
import { liveNow } from '@/lib/server/services/rates/revisions';
import type { TRateInput } from '@/lib/shared/schemas/rates';

const [rows = 100_000, weeks = 52, changedPercent = 5] = process.argv.slice(2).map(Number);
const server = process.env.SPACE_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const name = `revision_space_${process.pid}`;

async function main() {
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const url = server.replace(/\/[^/]*$/, `/${name}`);
  const orm = await openOrm(url);
  try {
    await migrate(orm);
    await seedIfEmpty(orm.em.fork(), { demo: true, adminPassword: 'space-measure-pass' });
    const em = orm.em.fork();
    const card = await em.findOneOrFail(Card, { name: 'Upstream Wholesale' });
    // Deterministic: the same decks every run.
    let seed = 7;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    let deck: TRateInput[] = Array.from({ length: rows }, (_, index) => ({
      prefix: String(1_000_000 + index),
      destination: `Destination ${index}`,
      rate: (0.001 + next() * 0.5).toFixed(4),
      connectionFee: '0',
      initialIncrement: 60,
      increment: 60,
      graceSeconds: 0,
      blocked: false,
    }));
    let nextPrefix = 1_000_000 + rows;
    const started = Date.now();
    for (let week = 0; week < weeks; week++) {
      // Through `mutate`: the card's counts and version move with its live revision, and
      // the change log records it. Its followers are not recomputed (the figure is one
      // card's history).
      await mutate(em.fork(), null, async (tx, record) => {
        const mine = await tx.findOneOrFail(Card, card.id, { populate: ['owner'] });
        await writeRateRows(tx, card.id, deck, 'replace', liveNow('import'));
        await recordRevisionApplied(tx, mine, mine.owner.path, record);
      });
      // Next week's deck: some rates move, half a percent of prefixes come and go.
      deck = deck
        .filter(() => next() >= 0.005)
        .map((row) =>
          next() < changedPercent / 100 ? { ...row, rate: (0.001 + next() * 0.5).toFixed(4) } : row,
        );
      while (deck.length < rows) {
        deck.push({ ...deck[0]!, prefix: String(nextPrefix), destination: `New ${nextPrefix}` });
        nextPrefix++;
      }
    }
    const [sizes] = await em.execute<Record<string, string>[]>(
      `select pg_total_relation_size('rate_history') as history,
              pg_total_relation_size('rate_revision') as revisions,
              (select count(*) from rate_history where card_id = ?) as history_rows`,
      [card.id],
    );
    const mb = (bytes: string | undefined) => (Number(bytes) / 1024 / 1024).toFixed(1);
    console.log(
      `${weeks} revisions of ${rows} rows (${changedPercent}% of rates changed and 0.5% of prefixes replaced a week), ${((Date.now() - started) / 1000).toFixed(0)} s: ` +
        `rate_history ${mb(sizes?.history)} MB in ${sizes?.history_rows} rows (with its index); rate_revision ${mb(sizes?.revisions)} MB`,
    );
  } finally {
    await orm.close(true);
    if (!process.env.KEEP_DATABASE) await admin.query(`drop database ${name} with (force)`);
    await admin.end();
  }
}

void main();
