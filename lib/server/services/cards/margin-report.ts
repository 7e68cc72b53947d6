import type { EntityManager } from '@mikro-orm/postgresql';
import type { TActor } from '@/lib/server/authz/actor';
import { assertCan } from '@/lib/server/authz/can';
import { marginCheck } from '@/lib/shared/pricing/markup';
import { money } from '@/lib/shared/pricing/money';
import { Card, type TCard } from '@/lib/server/entities';
import { assuranceSql, assuredAgainst } from '@/lib/server/services/rates/rate-sets';
import { decodeRateCursor, encodeRateCursor } from '@/lib/server/services/rates/list-rates';
import type { TMarginReport, TMarginRow } from '@/lib/shared/schemas/cards';
import { assertOwnerSide, findVisibleCard } from './card-store';

interface TRow {
  prefix: string;
  destination: string;
  effective_from: Date | null;
  rate: string;
  connection_fee: string;
  initial_increment: number;
  increment: number;
  grace_seconds: number;
  minimum_seconds: number;
  buy_minimum_seconds: number;
  buy_rate: string;
  buy_fee: string;
  buy_initial_increment: number;
  buy_increment: number;
  buy_grace_seconds: number;
  priced_by: string;
  buy_prefix: string;
}

/**
 * Pages follow the rows' order, prefix then effective time (none first): a prefix may
 * have a row now and others from later dates, so the cursor is the rates list's, which
 * names both (a cursor of the prefix alone skipped a prefix's later rows when a page
 * ended on its first).
 */
function afterCursor(
  alias: string,
  cursor: string | undefined,
): { sql: string; params: unknown[] } {
  if (cursor === undefined) return { sql: 'true', params: [] };
  const [prefix, at] = decodeRateCursor(cursor);
  return {
    sql: `(${alias}.prefix, coalesce(${alias}.effective_from, '-infinity'::timestamptz))
          > (?, coalesce(?::timestamptz, '-infinity'::timestamptz))`,
    params: [prefix, at],
  };
}

/**
 * `GET /cards/{id}/margin` (owner's view of a derived card): the rows the margin check
 * flags, each with its first losing call and worst loss, in prefix order. The
 * flag is computed in SQL when rates are derived; the figures here by the pricing core —
 * a property test holds the two to the same answer.
 */
export async function marginReport(
  em: EntityManager,
  actor: TActor,
  unverifiedId: string,
  query: { limit: number; cursor?: string },
): Promise<TMarginReport> {
  assertCan(actor, 'cards:read');
  // It shows buy and sell rates: the rates grant as well.
  assertCan(actor, 'rates:read');
  const { card, relation } = await findVisibleCard(em, actor, unverifiedId);
  assertOwnerSide(relation, 'reads its margin');
  const after = afterCursor(card.parent ? 's' : 'r', query.cursor);
  if (!card.parent && card.compareWith?.length) {
    return assuranceReport(em, actor, card, query.limit, after);
  }
  if (!card.parent)
    return { cardId: card.id, parentId: null, total: 0, items: [], nextCursor: null };
  const parents = await em.find(Card, {
    id: { $in: [card.parent.id, ...(card.moreParents ?? [])] },
  });
  // Each row against the parent row that priced it (several parents: `priced_by`), its
  // longest prefix in effect by the row's effective time — the row the check compared.
  const rows = await em.execute<TRow[]>(
    `select s.prefix, s.destination, s.effective_from, s.rate, s.connection_fee,
            s.initial_increment, s.increment, s.grace_seconds, s.minimum_seconds,
            b.minimum_seconds as buy_minimum_seconds, b.rate as buy_rate, b.connection_fee as buy_fee,
            b.initial_increment as buy_initial_increment, b.increment as buy_increment,
            b.grace_seconds as buy_grace_seconds, b.card_id as priced_by, b.prefix as buy_prefix
       from rate s
       cross join lateral (
         select * from rate b
          where b.card_id = coalesce(s.priced_by, ?::uuid)
            and b.prefix = any(array(select left(s.prefix, n) from generate_series(1, length(s.prefix)) n))
            and coalesce(b.effective_from, '-infinity'::timestamptz)
                <= coalesce(s.effective_from, '-infinity'::timestamptz)
          order by length(b.prefix) desc, b.effective_from desc nulls last
          limit 1) b
      where s.card_id = ? and s.losing and ${after.sql}
      order by s.prefix, s.effective_from nulls first
      limit ?`,
    [card.parent.id, card.id, ...after.params, query.limit + 1],
  );
  const items = rows.slice(0, query.limit).map((row) =>
    toMarginRow(
      row,
      card,
      parents.find((one) => one.id === row.priced_by)!,
    ),
  );
  return {
    cardId: card.id,
    parentId: card.parent.id,
    total: card.losingRates,
    items,
    nextCursor: rows.length > query.limit ? encodeRateCursor(rows[query.limit - 1]!) : null,
  };
}

/**
 * A customer card built by hand with `compareWith`: its rows selling below the cheapest
 * matching provider rate on some call length, found set-based (`assuranceSql`), each
 * then priced by the pricing core like a derived card's.
 */
async function assuranceReport(
  em: EntityManager,
  actor: TActor,
  card: TCard,
  limit: number,
  after: { sql: string; params: unknown[] },
): Promise<TMarginReport> {
  // Each row names its buy row's card, rate, fee and increments: only cards both the
  // owner (what its alerts compare with) and the viewer relate to, never one it lost.
  const providers = await assuredAgainst(em, card, actor);
  // A provider deleted or out of reach since, or none left: nothing to compare.
  if (!providers.length)
    return { cardId: card.id, parentId: null, total: 0, items: [], nextCursor: null };
  // One statement for the page and the total: the check is set-based but not cheap (a
  // short sell prefix over a big provider card is thousands of numbers), so it runs once.
  const rows = await em.execute<(TRow & { total: string })[]>(
    `select * from (${assuranceSql(
      providers,
      card,
      `r.prefix, r.destination, r.effective_from, r.rate, r.connection_fee,
       r.initial_increment, r.increment, r.grace_seconds, r.minimum_seconds,
       p.minimum_seconds as buy_minimum_seconds, p.rate as buy_rate, p.connection_fee as buy_fee,
       p.initial_increment as buy_initial_increment, p.increment as buy_increment,
       p.grace_seconds as buy_grace_seconds, p.card_id as priced_by, p.prefix as buy_prefix,
       count(*) over () as total`,
    )}) r
      where ${after.sql} order by r.prefix, r.effective_from nulls first limit ?`,
    [card.id, ...after.params, limit + 1],
  );
  const items = rows.slice(0, limit).map((row) =>
    toMarginRow(
      row,
      card,
      providers.find((one) => one.id === row.priced_by)!,
    ),
  );
  return {
    cardId: card.id,
    parentId: null,
    total: Number(rows[0]?.total ?? 0),
    items,
    nextCursor: rows.length > limit ? encodeRateCursor(rows[limit - 1]!) : null,
  };
}

/** One flagged row, its buy row the one it was checked against, priced by the core. */
function toMarginRow(row: TRow, card: TCard, parent: TCard): TMarginRow {
  const at = (value: string, decimals: number) => money(value).toFixed(decimals);
  // The card may bill its own structure (issue 16 §3): each level's row as it bills.
  const buy = {
    initialIncrement: row.buy_initial_increment,
    increment: row.buy_increment,
    graceSeconds: row.buy_grace_seconds,
    minimumSeconds: row.buy_minimum_seconds,
    rate: at(row.buy_rate, parent.decimals),
    connectionFee: at(row.buy_fee, parent.decimals),
  };
  const sell = {
    initialIncrement: row.initial_increment,
    increment: row.increment,
    graceSeconds: row.grace_seconds,
    minimumSeconds: row.minimum_seconds,
    rate: at(row.rate, card.decimals),
    connectionFee: at(row.connection_fee, card.decimals),
  };
  const check = marginCheck(
    { terms: buy, card: { decimals: parent.decimals, rounding: parent.rounding } },
    { terms: sell, card: { decimals: card.decimals, rounding: card.rounding } },
  );
  return {
    prefix: row.prefix,
    destination: row.destination,
    pricedBy: { cardId: parent.id, cardName: parent.name, prefix: row.buy_prefix },
    effectiveFrom: row.effective_from ? new Date(row.effective_from).toISOString() : null,
    buy,
    sell,
    firstLosingSeconds: check.firstLosingSeconds,
    worstLoss: check.worstLoss,
    worstLossSeconds: check.worstLossSeconds,
    sellsBelowBuyRate: check.sellsBelowBuyRate,
    samples: check.samples,
  };
}
