import type { EntityManager } from '@mikro-orm/postgresql';
import type { z } from 'zod';
import type { TActor } from '@/lib/server/authz/actor';
import { assertCan } from '@/lib/server/authz/can';
import { cardRelation, type TCardRelation } from '@/lib/server/authz/card-relation';
import { withinSql, type TSqlFragment } from '@/lib/server/authz/scope';
import { directQuery, statementTexts } from '@/lib/server/db/direct-query';
import { heldCardAtSql } from '@/lib/server/services/assignments/held-card';
import { invalidInput, notFound } from '@/lib/server/errors/domain-error';
import { billedUnder, callPrice } from '@/lib/shared/pricing/billing';
import { money, type TRoundingMode } from '@/lib/shared/pricing/money';
import type { TLookup, TLookupLevel, ZLookupQuery } from '@/lib/shared/schemas/rates';
import type { TRateRow } from '@/lib/server/services/rates/list-rates';

/**
 * Now, a match is priced with its card's own precision and rounding: a change of either
 * records a revision, and none is made while a revision waits (update-card.ts), so the
 * revisions live now and due were recorded with them.
 */
const CARD_TERMS = 'null::smallint as rev_decimals, null::text as rev_rounding';

interface TChainCard {
  id: string;
  name: string;
  currency: string;
  decimals: number;
  rounding: TRoundingMode;
  owner_id: string;
  owner_path: string;
  holders: string[];
  parent_id: string | null;
  /** More than one parent: a follower of several cards. */
  parents: number;
  depth: number;
  start_id: string;
}

/** A stored rate row as the lookup reads it (the columns it needs, and its card). */
type TMatch = Pick<
  TRateRow,
  | 'prefix'
  | 'destination'
  | 'rate'
  | 'connection_fee'
  | 'initial_increment'
  | 'increment'
  | 'grace_seconds'
  | 'blocked'
> & {
  card_id: string;
  priced_by: string | null;
  minimum_seconds: number;
  /** The revision's precision and rounding at an instant (null: the card's own). */
  rev_decimals: number | null;
  rev_rounding: TRoundingMode | null;
};

export interface TLookupRow {
  found: boolean;
  /** When the account took its current place (a customer's transfer), or null. */
  placedAt: string | null;
  chosen: boolean;
  starts: number;
  cards: TChainCard[] | null;
  matches: TMatch[] | null;
}

/**
 * `GET /rates/lookup` (DESIGN §1 "Rate lookup"): for an account and a dialled number,
 * one chain per card the account holds — a customer's assigned card; a reseller's or
 * carrier's assigned and own cards; or just `cardId` — each followed up its parent
 * links, top (buy) first, as far as the caller may see (the card relation: an assignee
 * sees its buy card, never what is above it). At every level the longest prefix in
 * effect now, the billed amount for `seconds`, and the margin over the level above.
 * One indexed probe per chain: `prefix = any(<leading digits>)`.
 */
export async function lookupRates(
  em: EntityManager,
  actor: TActor,
  query: z.infer<typeof ZLookupQuery>,
  /** What `lookupStatement` gave when it rode with the credential's check (`apiRidingRoute`). */
  ridden?: TLookupRow | null,
): Promise<TLookup> {
  assertCan(actor, 'rates:read');
  const found = ridden ?? (await runLookup(em, actor.account.path, query));
  if (!found?.found) throw notFound('account');
  if (query.cardId && !found.chosen)
    throw invalidInput({ cardId: 'is not a card this account holds' });
  // Before a transfer the account's calls were its old parent's: rating leaves them
  // unrated `moved` and authorize refuses them, so the trace prices none on this chain
  // (the card held then is the new side's, and would show a price never charged).
  if (query.at && found.placedAt) {
    const movedAt = new Date(found.placedAt);
    if (Date.parse(query.at) < movedAt.getTime()) {
      return {
        number: query.number,
        seconds: query.seconds,
        levels: [],
        chains: [],
        movedAt: movedAt.toISOString(),
      };
    }
  }
  if (!found.starts)
    return { number: query.number, seconds: query.seconds, levels: [], chains: [] };
  const cards = found.cards ?? [];
  const matches = found.matches ?? [];
  const startIds = query.cardId ? [query.cardId] : [...new Set(cards.map((card) => card.start_id))];

  const matchOf = new Map(matches.map((match) => [match.card_id, match]));

  const chains = startIds.map((startId) => {
    // Walk up from the held card while the caller may see the card.
    // Up the parent that priced the number at each level (several parents: the row's
    // `priced_by`), while the caller may see the card.
    const visible: { card: TChainCard; relation: TCardRelation }[] = [];
    const byId = new Map<string, TChainCard>();
    for (const row of cards)
      if (row.start_id === startId && !byId.has(row.id)) byId.set(row.id, row);
    let next = byId.get(startId);
    // Each card once: a former parent's links may loop with the current ones.
    while (
      next &&
      !visible.some(({ card }) => card.id === next!.id) &&
      visible.length <= byId.size
    ) {
      const relation = cardRelation(actor, { ownerPath: next.owner_path, holders: next.holders });
      if (!relation) break;
      visible.push({ card: next, relation });
      const up = matchOf.get(next.id)?.priced_by ?? next.parent_id;
      next = up ? byId.get(up) : undefined;
    }
    const nameOf = new Map(visible.map(({ card }) => [card.id, card.name]));
    let above: { amount: string; decimals: number } | null = null;
    const levels = visible.reverse().map(({ card: current, relation }): TLookupLevel => {
      const match = matchOf.get(current.id);
      // Priced as the revision matched was: at an instant, with its precision and rounding.
      const card = {
        ...current,
        decimals: match?.rev_decimals ?? current.decimals,
        rounding: match?.rev_rounding ?? current.rounding,
      };
      const priced = match && !match.blocked;
      const amount = priced
        ? callPrice(
            {
              rate: match.rate,
              connectionFee: match.connection_fee,
              initialIncrement: match.initial_increment,
              increment: match.increment,
              graceSeconds: match.grace_seconds,
              minimumSeconds: match.minimum_seconds,
            },
            query.seconds,
            { decimals: card.decimals, rounding: card.rounding },
          )
        : null;
      // At the finer of the two precisions: the exact difference of two billed prices.
      const margin =
        amount !== null && above !== null
          ? money(amount).minus(above.amount).toFixed(Math.max(card.decimals, above.decimals))
          : null;
      above = amount === null ? null : { amount, decimals: card.decimals };
      const at = (value: string) => money(value).toFixed(card.decimals);
      return {
        accountId: relation === 'owner' ? card.owner_id : null,
        cardId: card.id,
        cardName: card.name,
        currency: card.currency,
        relation,
        prefix: match?.prefix ?? null,
        destination: match?.destination ?? null,
        rate: match ? at(match.rate) : null,
        connectionFee: match ? at(match.connection_fee) : null,
        initialIncrement: match?.initial_increment ?? null,
        increment: match?.increment ?? null,
        blocked: match?.blocked ?? false,
        minimumSeconds: match?.minimum_seconds ?? null,
        billedSeconds: priced
          ? billedUnder(
              {
                rate: match.rate,
                connectionFee: match.connection_fee,
                initialIncrement: match.initial_increment,
                increment: match.increment,
                graceSeconds: match.grace_seconds,
                minimumSeconds: match.minimum_seconds,
              },
              query.seconds,
            )
          : null,
        amount,
        margin,
        pricedBy:
          relation === 'owner' &&
          card.parents > 1 &&
          match?.priced_by &&
          nameOf.has(match.priced_by)
            ? { cardId: match.priced_by, cardName: nameOf.get(match.priced_by)! }
            : null,
      };
    });
    return { cardId: startId, levels };
  });
  // A chain whose held card the caller may not read (`rates:read` without `cards:read`)
  // is not shown at all: its id alone would name a card `GET /cards/{id}` hides, and
  // asking for it by `cardId` answers as for a card the account does not hold.
  const shown = chains
    .filter((chain) => chain.levels.length > 0)
    .sort((a, b) => chainRank(a, query.accountId) - chainRank(b, query.accountId) || byCard(a, b));
  if (query.cardId && !shown.length) {
    throw invalidInput({ cardId: 'is not a card this account holds' });
  }
  return {
    number: query.number,
    seconds: query.seconds,
    levels: shown[0]?.levels ?? [],
    chains: shown,
  };
}

/**
 * Which of an account's chains comes first (`levels`): one whose own card prices the
 * number before one that does not, and among those the card the account holds by
 * assignment (what it is charged by) before one of its own. The statement reads the
 * chains in card-id order, which says nothing: a reseller's `levels` was whichever of
 * its cards had the lower random id, its own unpriced card as often as its buy card.
 */
function chainRank(chain: { levels: TLookupLevel[] }, accountId: string): number {
  const start = chain.levels.at(-1)!;
  const priced = start.amount !== null ? 0 : 2;
  const ownCard = start.accountId === accountId ? 1 : 0;
  return priced + ownCard;
}

/** Then by the start card's name, and id: the same order every time. */
function byCard(a: { levels: TLookupLevel[] }, b: { levels: TLookupLevel[] }): number {
  const x = a.levels.at(-1)!;
  const y = b.levels.at(-1)!;
  return x.cardName.localeCompare(y.cardName) || (x.cardId < y.cardId ? -1 : 1);
}

/** The lookup's statement on its own, for the caller's path (a view-as, a session cookie). */
async function runLookup(
  em: EntityManager,
  callerPath: string,
  query: z.infer<typeof ZLookupQuery>,
): Promise<TLookupRow | undefined> {
  const statement = lookupStatement(callerPath, lookupInput(query));
  const [row] = await directQuery<{ ridden: TLookupRow }>(
    em,
    `select (${statement.sql}) as ridden`,
    statement.params,
    { prepared: true },
  );
  return row?.ridden;
}

/** The statement's input from the route's query. */
export function lookupInput(query: z.infer<typeof ZLookupQuery>): TLookupInput {
  return {
    accountId: query.accountId,
    cardId: query.cardId ?? null,
    number: query.number,
    at: query.at ? new Date(query.at).toISOString() : null,
  };
}

interface TLookupInput {
  accountId: string;
  cardId: string | null;
  number: string;
  at?: string | null;
}

/**
 * The lookup's one statement, giving one JSON value (`TLookupRow`): the account in the
 * caller's scope, the cards it holds, each chain up its parents, and the longest prefix
 * of each chain card in effect now. One value so that it can ride in the round trip of a
 * bearer token's check (`apiRidingRoute`; issue 14: the API within 3× of its SQL) —
 * `callerPath` is then SQL reading the token's account path. Exported for the bench,
 * which times this very statement straight on the database beside the API.
 */
export function lookupStatement(
  callerPath: string | TSqlFragment,
  query: TLookupInput,
): { sql: string; params: unknown[] } {
  const leading = leadingDigits(query.number);
  const inScope = withinSql('path', callerPath);
  return {
    sql: lookupText(`${Boolean(query.at)}|${inScope.sql}`, () =>
      lookupSql(inScope.sql, Boolean(query.at)),
    ),
    params: [
      query.accountId,
      ...inScope.params,
      // At an instant, a customer's card is the one it held then (held-card.ts).
      ...(query.at ? [query.at] : []),
      query.cardId,
      query.cardId,
      ...longestPrefixParams(query.at ?? null, leading),
    ],
  };
}

const lookupText = statementTexts();

function lookupSql(inScope: string, at: boolean): string {
  return `with recursive target as (
       select id, placed_at from account where id = ? and ${inScope}),${at ? HELD_AT : ''}
     starts as (${at ? STARTS_AT : STARTS_NOW}
       union select id from card where owner_id = (select id from target)),
     chosen as (select id from starts where ?::uuid is null or id = ?::uuid),
     chain as (
       select id, id as start_id from card where id in (select id from chosen)
       union
       select up.id, chain.start_id
         from chain
        cross join lateral (
          select cp.parent_id as id from card_parent cp where cp.card_id = chain.id
          -- A parent it followed before, which a revision of the asked instant may name
          -- (with it the links may loop, a former parent now below: each card once).
          union select fp.parent_id from card_former_parent fp where fp.card_id = chain.id) up),
     cards as (
       select chain.start_id, case when c.id = chain.start_id then 0 else 1 end as depth,
              c.id, c.name, c.currency, c.decimals, c.rounding,
              c.parent_id, c.owner_id, o.path as owner_path,
              1 + coalesce(jsonb_array_length(c.more_parents), 0) as parents,
              coalesce((select array_agg(ca.account_id::text) from card_assignment ca where ca.card_id = c.id),
                       '{}'::text[])${at ? HELD_AT_HOLDER : ''} as holders
         from chain join card c on c.id = chain.id join account o on o.id = c.owner_id),
     matches as (${at ? MATCHES_AT : MATCHES_NOW})
     select json_build_object(
              'found', exists (select 1 from target),
              'placedAt', (select placed_at from target),
              'chosen', exists (select 1 from chosen),
              'starts', (select count(*) from starts)::int,
              'cards', (select json_agg(cards order by start_id, depth) from cards),
              'matches', (select json_agg(matches) from matches))`;
}

/**
 * The cards the account holds now, or at `at`: a customer's the one it held then, as rating
 * prices a call (held-card.ts; `held`); a reseller's as it holds them (only a customer's
 * card is dated). At an instant the customer is among that card's holders too, so its own
 * people trace a past call on the card they were charged by, as its usage shows it.
 */
const HELD_AT = `
     held as (select ${heldCardAtSql('(select id from target)', '?::timestamptz')} as id),`;
const HELD_AT_HOLDER = `
              || case when c.id = (select id from held) then array[(select id from target)::text]
                      else '{}'::text[] end`;
const STARTS_NOW = `
       select card_id as id from card_assignment where account_id = (select id from target)`;
const STARTS_AT = `
       select card_id as id from card_assignment
        where account_id = (select id from target) and not exclusive
       union
       select id from held where id is not null`;

/** The longest prefix of each chain card in effect now or at `at` (`longestPrefixJoin`). */
const MATCHES_NOW = `
       select m.* from (select distinct id from chain) chained
        ${longestPrefixJoin('chained.id', { at: false, join: 'cross join lateral' })}`;
const MATCHES_AT = `
       select m.* from (select distinct id from chain) chained
        ${longestPrefixJoin('chained.id', { at: true, join: 'cross join lateral' })}`;

/**
 * The longest prefix of the card `cardColumn` names, as a lateral join giving `m`
 * (card_id, prefix, destination, rate, connection_fee, initial_increment, increment,
 * grace_seconds, blocked, priced_by, minimum_seconds, and the precision and rounding to
 * price it with when not the card's: rev_decimals, rev_rounding): one indexed probe,
 * `prefix = any(<leading digits>)`; its parameters are `longestPrefixParams`'. At an
 * instant: the card's revision live then (the latest not cancelled whose date has come),
 * its rows from history, in effect at that instant. Now: the same answer as at now, since
 * rating charges a call with the revision live at its start — the live set, `rate`, rows
 * in effect now; but `rate` moves to a revision only when the revision timer commits (it
 * wakes at the date, and retries 5 s after an error), so a card with a revision whose
 * date has come unapplied is read from history as at an instant. Otherwise the switch
 * would be allowed `maxSeconds` on a price no longer charged. The cards with such a
 * revision are read once per statement from the partial index `rate_revision_pending`
 * (usually no row), and the branch not taken is a one-time filter, never scanned — the
 * fast path keeps its one probe of `rate`. `left join lateral` keeps a row without a
 * match (m's columns null). Shared by the price trace and the switch's authorization
 * (issue 18).
 */
export function longestPrefixJoin(
  cardColumn: string,
  options: { at: boolean; join: 'cross join lateral' | 'left join lateral' },
): string {
  const on = options.join === 'left join lateral' ? ' on true' : '';
  const columns = `card_id, prefix, destination, rate::text as rate,
                 connection_fee::text as connection_fee, initial_increment, increment,
                 grace_seconds, blocked, priced_by, minimum_seconds`;
  const order = 'order by length(prefix) desc, effective_from desc nulls last limit 1';
  const fromHistory = (instant: string, revision: string) => `
            from rate_history
           where ${revision} is not null and card_id = ${cardColumn} and prefix = any(?::text[])
             and from_rev <= ${revision} and (to_rev is null or to_rev > ${revision})
             and (effective_from is null or effective_from <= ${instant})
           ${order}`;
  if (options.at) {
    // With the precision and rounding the revision priced calls with (null: the card's).
    return `${options.join} (
          select max(number) as n,
                 (array_agg(decimals order by number desc))[1] as rev_decimals,
                 (array_agg(rounding order by number desc))[1] as rev_rounding
            from rate_revision
           where card_id = ${cardColumn} and cancelled_at is null and live_at <= ?::timestamptz) v${on}
        ${options.join} (
          select ${columns}, v.rev_decimals, v.rev_rounding
                 ${fromHistory('?::timestamptz', 'v.n')}) m${on}`;
  }
  // `due.n`: the revision live now, only when one has come due unapplied (else null). An
  // `in` over the due revisions, not a correlated `exists`: PostgreSQL hashes it once.
  return `left join lateral (
          select max(number) as n from rate_revision
           where card_id = ${cardColumn} and cancelled_at is null and live_at <= now()
             and ${cardColumn} in (select p.card_id from rate_revision p
                                    where p.applied_at is null and p.cancelled_at is null
                                      and p.live_at <= now())) due on true
        ${options.join} (
          (select ${columns}, ${CARD_TERMS}
             from rate
            where due.n is null and card_id = ${cardColumn} and prefix = any(?::text[])
              and (effective_from is null or effective_from <= now())
            ${order})
          union all
          (select ${columns}, ${CARD_TERMS} ${fromHistory('now()', 'due.n')})) m${on}`;
}

/**
 * `longestPrefixJoin`'s parameters, in its order: the instant, the leading digits, the
 * instant; now, the leading digits for the live set and again for history.
 */
export function longestPrefixParams(at: string | null, leading: string): string[] {
  return at ? [at, leading, at] : [leading, leading];
}

/** A dialled number's leading digits (up to 20, the longest prefix a rate may have), as text[]. */
export function leadingDigits(number: string): string {
  const leading = Array.from({ length: Math.min(number.length, 20) }, (_, index) =>
    number.slice(0, index + 1),
  );
  return `{${leading.join(',')}}`;
}
