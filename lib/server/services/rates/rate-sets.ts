import type { EntityManager } from '@mikro-orm/postgresql';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Knex } from '@mikro-orm/knex';
import { Card, type TCard } from '@/lib/server/entities';
import { isPostgresServer } from '@/lib/server/db/direct-query';
import type { TChange } from '@/lib/server/live/change-log';
import { marginSlack } from '@/lib/shared/pricing/markup';
import { billedSecondsSql, roundSql } from './pricing-sql';
import type { TRateInput } from '@/lib/shared/schemas/rates';
import { cardChange, holdersOf, toCardOwnerDto } from '@/lib/server/services/cards/card-store';

/**
 * Rate sets are written in bulk, set-based (DESIGN §1, issue "100k rows in seconds"):
 * one statement for a card's whole set, never a row loop. Every writer ends with
 * `rateSetChanged`, which moves the card's version (the change-log guard covers the
 * card), recomputes every card derived from it, and records one `cards.rates_changed`
 * entry per card.
 */

/** Why a card's rates changed, as its `rates_changed` summary says. */
export type TRatesCause = 'put' | 'import' | 'parent' | 'markup';

/** The input rows in one statement, any size. */
export async function writeRateRows(
  tx: EntityManager,
  cardId: string,
  rows: TRateInput[],
  mode: 'replace' | 'merge',
): Promise<void> {
  if (mode === 'replace') await tx.execute('delete from rate where card_id = ?', [cardId]);
  if (rows.length === 0) return;
  const trx = transactionOf(tx);
  // A second write in the same transaction (the demo seed) stages afresh.
  await trx.raw('drop table if exists pg_temp.rate_import');
  const connection = (await trx.client.acquireConnection()) as pg.ClientBase;
  // Rows enter in prefix order: each index insert then lands on the page the previous
  // one touched instead of a random leaf (a third less time on 100k rows).
  const source = (await copyCapable(connection))
    ? await stageByCopy(trx, connection, rows)
    : await stageByJson(trx, rows);
  await trx.raw(
    `insert into rate (card_id, prefix, destination, rate, connection_fee, initial_increment,
                       increment, grace_seconds, effective_from, blocked)
     select ?, p, d, r, f, i, n, g, e, b from ${source} order by p, e
     ${
       mode === 'merge'
         ? `on conflict (card_id, prefix, coalesce(effective_from, '-infinity'::timestamp with time zone))
            do update set destination = excluded.destination, rate = excluded.rate,
              connection_fee = excluded.connection_fee, initial_increment = excluded.initial_increment,
              increment = excluded.increment, grace_seconds = excluded.grace_seconds,
              blocked = excluded.blocked`
         : ''
     }`,
    [cardId],
  );
}

/**
 * Validated rows into a staging table of the transaction by COPY FROM STDIN (text
 * format): no statement text, no JSON to build and take apart — the floor of what
 * PostgreSQL can take in. Dropped at commit.
 */
async function stageByCopy(
  trx: Knex.Transaction,
  connection: pg.ClientBase,
  rows: TRateInput[],
): Promise<string> {
  await trx.raw(
    `create temp table rate_import (p text, d text, r numeric, f numeric, i int, n int, g int,
       e timestamptz, b boolean) on commit drop`,
  );
  const sink = connection.query(copyFrom('copy rate_import from stdin'));
  await pipeline(Readable.from(copyText(rows)), sink);
  return 'rate_import';
}

/** The rows as COPY's text format, a few thousand lines a chunk. */
function* copyText(rows: TRateInput[]): Generator<string> {
  let chunk = '';
  for (let index = 0; index < rows.length; index++) {
    const row = rows[index]!;
    chunk += `${copyCell(row.prefix)}\t${copyCell(row.destination)}\t${row.rate}\t${row.connectionFee}\t${row.initialIncrement}\t${row.increment}\t${row.graceSeconds}\t${row.effectiveFrom ?? '\\N'}\t${row.blocked ? 't' : 'f'}\n`;
    if (index % 2000 === 1999) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

/** A text cell escaped for COPY (validated text has no control characters; a backslash may). */
function copyCell(value: string): string {
  return /[\\\t\n\r]/.test(value)
    ? value.replace(/[\\\t\n\r]/g, (char) => COPY_ESCAPES[char]!)
    : value;
}
const COPY_ESCAPES: Record<string, string> = {
  '\\': '\\\\',
  '\t': '\\t',
  '\n': '\\n',
  '\r': '\\r',
};

/**
 * The embedded database (PGlite over its socket) has no COPY from a client: one JSON
 * parameter unpacked by json_to_recordset, typed columns in one pass.
 */
async function stageByJson(trx: Knex.Transaction, rows: TRateInput[]): Promise<string> {
  const packed = JSON.stringify(
    rows.map((row) => ({
      p: row.prefix,
      d: row.destination,
      r: row.rate,
      f: row.connectionFee,
      i: row.initialIncrement,
      n: row.increment,
      g: row.graceSeconds,
      e: row.effectiveFrom ?? null,
      b: row.blocked,
    })),
  );
  // Bound, not inlined: `em.execute` would escape a 10 MB JSON into the SQL text.
  await trx.raw(
    `create temp table rate_import on commit drop as
       select * from json_to_recordset(?::json)
         as x(p text, d text, r numeric, f numeric, i int, n int, g int, e timestamptz, b boolean)`,
    [packed],
  );
  return 'rate_import';
}

/** Whether a connection takes COPY FROM STDIN: PostgreSQL does, PGlite's socket does not. */
const copyCapable = isPostgresServer;

function transactionOf(tx: EntityManager): Knex.Transaction {
  const trx = tx.getTransactionContext<Knex.Transaction>();
  if (!trx) throw new Error('rate writes need a transaction');
  return trx;
}

/**
 * A derived card's rates from its parent's, set-based (one delete, one INSERT … SELECT,
 * whatever the size): the parent's rows marked up (percent, then fixed per minute), a
 * per-prefix override replacing the marked-up rate, rounded the child's way; fee rounded the child's way; increments,
 * grace, effective time and blocking the parent's (the child never bills a shorter
 * structure than it buys, and every parent prefix — the longer ones included — has its
 * row, so no shorter sell prefix hides a dearer buy one). `losing` flags a row when any
 * call length sells below its buy price (the exact check, lib/shared/pricing/markup.ts).
 * Returns the flagged rows that were not flagged before (`cards.margin_alert`).
 */
export async function rederive(
  tx: EntityManager,
  cardId: string,
): Promise<{ newlyLosing: number; newlyLosingPrefixes: string[] }> {
  const child = await tx.findOneOrFail(Card, { id: cardId }, { populate: ['parent'] });
  const parent = child.parent as unknown as TCard;
  const previous = await tx.execute<{ keys: string | null }[]>(
    `select json_agg(prefix || '@' || coalesce(effective_from::text, ''))::text as keys
       from rate where card_id = ? and losing`,
    [cardId],
  );
  await tx.execute('delete from rate where card_id = ?', [cardId]);
  // Each lateral step is computed once per row (`offset 0` keeps the planner from
  // inlining it into every use: a rounding expression repeats its argument).
  // `losing` is marginCheck (lib/shared/pricing/markup.ts) in SQL: a sell rate below the
  // buy rate loses outright; otherwise one period of billed lengths from the first out of
  // grace (60 / gcd(increment, 60) of them, twice that with half-even rounding) decides,
  // and of those only the ones shorter than where the sell price's lead passes what
  // rounding can take back (`slack`).
  const slack = marginSlack(parent, child).toFixed();
  // Half-even rounding repeats over two minutes, not one (marginCheck).
  const periods = parent.rounding === 'half_even' || child.rounding === 'half_even' ? 2 : 1;
  await tx.execute(
    `insert into rate (card_id, prefix, destination, rate, connection_fee, initial_increment,
                       increment, grace_seconds, effective_from, blocked, overridden, losing)
     select ?, p.prefix, p.destination, s.rate, s.fee, p.initial_increment, p.increment,
            p.grace_seconds, p.effective_from, p.blocked, o.rate is not null,
            not p.blocked and (s.rate < p.rate or exists (
              select 1 from generate_series(0, (least(${periods} * 60 / gcd(p.increment, 60),
                  case when s.rate > p.rate
                       then ceil(greatest(0, 60 * (${slack}::numeric - (s.fee - p.connection_fee))
                                             / (s.rate - p.rate) - g.first) / p.increment)
                       else ${periods * 60} end))::int - 1) k
               cross join lateral (select g.first + k * p.increment as billed offset 0) b
               cross join lateral (
                 select s.fee + s.rate * b.billed / 60 as sell, p.connection_fee + p.rate * b.billed / 60 as buy
                 offset 0) x
               where ${roundSql('x.sell', child)} < ${roundSql('x.buy', parent)}))
       from rate p
       left join json_to_recordset(?::json) as o(prefix text, rate numeric) on o.prefix = p.prefix
      cross join lateral (
        select coalesce(o.rate, p.rate * (1 + ?::numeric / 100) + ?::numeric) as marked offset 0) m
      cross join lateral (
        select ${roundSql('m.marked', child)} as rate, ${roundSql('p.connection_fee', child)} as fee
        offset 0) s
      cross join lateral (
        select ${billedSecondsSql('(p.grace_seconds + 1)', 'p.initial_increment', 'p.increment')} as first
        offset 0) g
      where p.card_id = ?`,
    [
      cardId,
      JSON.stringify(child.overrides ?? []),
      child.markupPercent ?? '0',
      child.markupFixed ?? '0',
      parent.id,
    ],
  );
  const fresh = await tx.execute<{ count: string; prefixes: string[] | null }[]>(
    `select count(*) as count, (array_agg(prefix order by prefix))[1:20] as prefixes
       from rate r
      where card_id = ? and losing
        and not exists (select 1 from json_array_elements_text(?::json) k
                         where k.value = r.prefix || '@' || coalesce(r.effective_from::text, ''))`,
    [cardId, previous[0]?.keys ?? '[]'],
  );
  return {
    newlyLosing: Number(fresh[0]?.count ?? 0),
    newlyLosingPrefixes: fresh[0]?.prefixes ?? [],
  };
}

export type TRederived = Awaited<ReturnType<typeof rederive>>;

/**
 * After a card's rate set changed (written, or recomputed from a new markup: pass what
 * `rederive` found): its counts and version move, and every card derived from it, at
 * any depth, is recomputed in the same transaction, parents before children. One
 * `cards.rates_changed` record per card; a `cards.margin_alert` record for a derived
 * card where rows started losing money.
 */
export async function rateSetChanged(
  tx: EntityManager,
  card: TCard,
  ownerPath: string,
  cause: TRatesCause,
  record: (change: TChange) => void,
  rederived?: TRederived,
): Promise<void> {
  await recordRatesChanged(tx, card, ownerPath, cause, record, rederived);
  const descendants = await tx.execute<{ id: string; owner_path: string }[]>(
    `with recursive tree as (
       select id, 1 as depth from card where parent_id = ?
       union all
       select c.id, tree.depth + 1 from card c join tree on c.parent_id = tree.id)
     select tree.id, o.path as owner_path
       from tree join card c on c.id = tree.id join account o on o.id = c.owner_id
      order by tree.depth, tree.id`,
    [card.id],
  );
  if (descendants.length) {
    // Parents before children, like every writer: a concurrent edit of a derived card
    // waits here instead of deadlocking halfway through the recompute.
    await tx.execute(
      `select id from card where id = any(?::uuid[]) order by array_position(?::uuid[], id) for update`,
      [
        `{${descendants.map((row) => row.id).join(',')}}`,
        `{${descendants.map((row) => row.id).join(',')}}`,
      ],
    );
  }
  for (const row of descendants) {
    const child = await tx.findOneOrFail(Card, { id: row.id }, { populate: ['owner'] });
    const childRederived = await rederive(tx, child.id);
    await recordRatesChanged(tx, child, row.owner_path, 'parent', record, childRederived);
  }
}

async function recordRatesChanged(
  tx: EntityManager,
  card: TCard,
  ownerPath: string,
  cause: TRatesCause,
  record: (change: TChange) => void,
  rederived: TRederived | undefined,
): Promise<void> {
  const before = toCardOwnerDto(card);
  await refreshCounts(tx, card);
  const after = toCardOwnerDto(card);
  const holders = await holdersOf(tx, card.id);
  record(
    cardChange(card, ownerPath, 'updated', before, after, holders, {
      event: 'rates_changed',
      cause,
      rows: card.rateCount,
      losing: card.losingRates,
    }),
  );
  if (rederived && rederived.newlyLosing > 0)
    record(marginAlert(card, ownerPath, after, holders, rederived));
}

/** `cards.margin_alert`: rows of a derived card started losing money (owner's view only). */
export function marginAlert(
  card: TCard,
  ownerPath: string,
  dto: ReturnType<typeof toCardOwnerDto>,
  holders: string[],
  rederived: TRederived,
): TChange {
  return cardChange(card, ownerPath, 'updated', dto, dto, holders, {
    event: 'margin_alert',
    count: rederived.newlyLosing,
    prefixes: rederived.newlyLosingPrefixes,
  });
}

/** Counts kept on the card; touching `updatedAt` moves its version even when they match. */
export async function refreshCounts(tx: EntityManager, card: TCard): Promise<void> {
  const rows = await tx.execute<{ rows: string; losing: string }[]>(
    `select count(*) as rows, count(*) filter (where losing) as losing from rate where card_id = ?`,
    [card.id],
  );
  card.rateCount = Number(rows[0]?.rows ?? 0);
  card.losingRates = Number(rows[0]?.losing ?? 0);
  card.updatedAt = new Date();
  await tx.flush();
}
