import type { EntityManager } from '@mikro-orm/postgresql';
import type { TActor } from '@/lib/server/authz/actor';
import { assertCan } from '@/lib/server/authz/can';
import { isWithin, withinSql, type TSqlFragment } from '@/lib/server/authz/scope';
import { directQuery, statementTexts } from '@/lib/server/db/direct-query';
import { heldCardAtSql } from '@/lib/server/services/assignments/held-card';
import { invalidInput, notFound } from '@/lib/server/errors/domain-error';
import { longestAffordableCall } from '@/lib/shared/pricing/billing';
import { money, type TRoundingMode } from '@/lib/shared/pricing/money';
import type {
  TAuthorization,
  TAuthorizeReason,
  TAuthorizeRequest,
} from '@/lib/shared/schemas/authorize';
import type { TAccountKind } from '@/lib/server/entities';
import {
  leadingDigits,
  longestPrefixJoin,
  longestPrefixParams,
} from '@/lib/server/services/lookup/lookup-rates';

/**
 * The longest call `POST /authorize` allows: four hours. A switch re-asks for a longer
 * call (the credit it was allowed against may be spent by then), and no level's credit
 * is reserved for a call in progress: two calls at once are each allowed the whole of it.
 */
export const MAX_CALL_SECONDS = 4 * 60 * 60;

/** One level of the customer's chain as the decision statement gives it, customer first. */
export interface TAuthorizeLevel {
  id: string;
  kind: TAccountKind;
  path: string;
  status: 'active' | 'suspended';
  credit_blocked: boolean;
  credit_limit: string | null;
  balance: string;
  currency: string;
  /** When the account took its place in the tree (ms; null: where it was made). */
  placed_ms: string | null;
  /** The card this level pays by (see `authorizeStatement`), or null. */
  card_id: string | null;
  /** That card's currency: rating refuses a card in another currency than its payer's. */
  card_currency: string | null;
  decimals: number | null;
  rounding: TRoundingMode | null;
  /** Its longest prefix for the number, or null (no card, no route). */
  prefix: string | null;
  rate: string | null;
  connection_fee: string | null;
  initial_increment: number | null;
  increment: number | null;
  grace_seconds: number | null;
  /** A row's minimum duration (issue 16): a shorter call is billed as if it lasted it. */
  minimum_seconds: number | null;
  blocked: boolean | null;
}

/**
 * `POST /authorize` (issue 18): whether a customer's call to a number may go, and for how
 * long — the switch's question, in the call path. One prepared statement reads every
 * level of the chain (customer, each reseller above, the carrier) with the card it pays
 * by and that card's longest prefix; the rest is arithmetic here. The customer must be
 * the caller's account or below it (else 404, as everywhere); the grant alone opens it.
 */
export async function authorizeCall(
  em: EntityManager,
  actor: TActor,
  input: TAuthorizeRequest,
  /** What the statement gave when it rode with the credential's check (`apiRidingRoute`). */
  ridden?: TAuthorizeLevel[] | null,
): Promise<TAuthorization> {
  assertCan(actor, 'calls:authorize');
  let levels = ridden;
  if (levels === undefined) {
    const statement = authorizeStatement(actor.account.path, input);
    const [row] = await directQuery<{ levels: TAuthorizeLevel[] | null }>(
      em,
      `select (${statement.sql}) as levels`,
      statement.params,
      { prepared: true },
    );
    levels = row!.levels;
  }
  if (!levels?.length) throw notFound('account');
  if (levels[0]!.kind !== 'customer') throw invalidInput({ accountId: 'is not a customer' });
  return decide(actor, levels, input.at ?? null);
}

/**
 * In this order: the first reason any level gives is the answer's, named at the level it
 * comes from. An account's block reaches everything below it, and a derived card has its
 * parent's routes, so those are looked for from the top down; a chain of cards breaks
 * where it ends, so a missing card from the customer up.
 */
const LEVEL_CHECKS: [TAuthorizeReason, 'down' | 'up', (level: TAuthorizeLevel) => boolean][] = [
  ['account_suspended', 'down', (level) => level.status === 'suspended'],
  ['credit_blocked', 'down', (level) => level.credit_blocked],
  ['no_card', 'up', (level) => level.card_id === null],
  [
    'currency_mismatch',
    'up',
    (level) => level.card_id !== null && level.card_currency !== level.currency,
  ],
  ['blocked_prefix', 'down', (level) => level.prefix !== null && level.blocked === true],
  ['no_route', 'down', (level) => level.prefix === null],
];

/** What a refusal above the caller's account may say: a card's trouble is `no_route`. */
const ABOVE_REASON: Record<TAuthorizeReason, TAuthorizeReason> = {
  account_suspended: 'account_suspended',
  credit_blocked: 'credit_blocked',
  no_card: 'no_route',
  currency_mismatch: 'no_route',
  blocked_prefix: 'no_route',
  no_route: 'no_route',
  insufficient_credit: 'insufficient_credit',
  moved: 'moved',
};

/**
 * The decision over the chain's levels (customer first), the checks in `LEVEL_CHECKS`'s
 * order; a refusal above the caller's own account says only that (`isWithin`, the one
 * subtree rule). `maxSeconds` is the tightest level's in the caller's scope: at each
 * level with a credit limit, the longest call its card bills at most its available
 * credit (balance + limit) for; a level without a limit has no credit control and no
 * bound (the ledger's rule: `toBalanceDto`, `postEntry`). A level above the caller only
 * refuses, when it cannot pay for the call at all.
 */
export function decide(
  actor: TActor,
  levels: readonly TAuthorizeLevel[],
  at: string | null = null,
): TAuthorization {
  const customer = levels[0]!;
  const open = customer.prefix !== null && customer.blocked === false;
  const base = {
    rate: open ? money(customer.rate!).toFixed(customer.decimals!) : null,
    currency: customer.currency,
  };
  const refuse = (reason: TAuthorizeReason, index: number): TAuthorization => {
    const level = levels[index]!;
    const within = isWithin(actor.account.path, level.path);
    return {
      allowed: false,
      reason: within ? reason : ABOVE_REASON[reason],
      refusedBy: within ? { level: index, accountId: level.id } : 'above',
      maxSeconds: 0,
      ...base,
    };
  };
  // A call from before the customer was transferred is its old parent's: rating leaves it
  // unrated `moved` (rate-batch.ts `movedSince`), so it is not allowed on the new chain.
  if (at !== null && customer.placed_ms !== null && Date.parse(at) < Number(customer.placed_ms)) {
    return refuse('moved', 0);
  }
  for (const [reason, direction, fails] of LEVEL_CHECKS) {
    const found = direction === 'up' ? levels.findIndex(fails) : levels.findLastIndex(fails);
    if (found >= 0) return refuse(reason, found);
  }
  let maxSeconds = MAX_CALL_SECONDS;
  let tightest = -1;
  for (let index = levels.length - 1; index >= 0; index--) {
    const level = levels[index]!;
    if (level.credit_limit === null) continue;
    const seconds = longestAffordableCall(
      {
        rate: level.rate!,
        connectionFee: level.connection_fee!,
        initialIncrement: level.initial_increment!,
        increment: level.increment!,
        graceSeconds: level.grace_seconds!,
        minimumSeconds: level.minimum_seconds ?? 0,
      },
      { decimals: level.decimals!, rounding: level.rounding! },
      money(level.balance).plus(level.credit_limit),
      maxSeconds,
    );
    // A level above the caller's account bounds nothing it is told: how long that
    // level's credit lasts on its buy card would give away its prices and its spend
    // (DESIGN §1, Money). It may only refuse, when it cannot pay the first billed
    // interval, as a credit block there refuses. A carrier's token has every level in
    // scope, so the carrier's switch gets the whole chain's bound.
    if (!isWithin(actor.account.path, level.path)) {
      // Nothing past the grace (a call within it is free; `longestAffordableCall` gives
      // the grace when no charged call fits): it cannot pay the first charged interval.
      if (seconds <= Math.min(level.grace_seconds!, MAX_CALL_SECONDS)) {
        return refuse('insufficient_credit', index);
      }
      continue;
    }
    if (seconds < maxSeconds) [maxSeconds, tightest] = [seconds, index];
  }
  if (maxSeconds === 0) return refuse('insufficient_credit', tightest);
  return { allowed: true, maxSeconds, ...base };
}

/**
 * The decision's one statement (issue 18: the API within 3× of it; the bench times this
 * very text straight on the database), giving one JSON value: the customer in the
 * caller's scope, every account on its path, the card each pays by, and that card's
 * longest prefix for the number in the revision live now — the one rating charges, even
 * before the revision timer has applied it (`longestPrefixJoin`) — or at `at` (and then
 * the card the customer held at `at`, as rating prices a call: held-card.ts); one element
 * per level, the customer first; null when the customer is not in scope. The caller's
 * path may be SQL (`withinSql`), so the statement can ride in the credential check's
 * round trip (`enterRiding`).
 *
 * The chain: from the customer's assigned card up, at each card its longest prefix for the
 * number and up to the parent that priced that row (`priced_by`; the first parent where
 * none matched) — the price trace's walk (lookup-rates.ts) and rating's (rate-batch.ts),
 * so a card following several parents is paid for on the parent that priced the call.
 * The card a level pays by, on that chain (owners only ever rise: a card is derived from
 * one its owner owns or holds):
 * - the customer: its assigned card (owned by its parent);
 * - a reseller: the first card up the chain its parent owns — the card the parent
 *   assigned to it, from which its own (and so the customer's) derive;
 * - the carrier: the chain's root when it is a provider card the carrier owns (its
 *   upstream cost). A chain that ends in one of a reseller's own cards, or in a carrier's
 *   customer card, leaves the levels above without a card: nothing says what they pay.
 */
export function authorizeStatement(
  callerPath: string | TSqlFragment,
  input: { accountId: string; number: string; at?: string | null },
): { sql: string; params: unknown[] } {
  const inScope = withinSql('path', callerPath);
  const at = input.at ? new Date(input.at).toISOString() : null;
  const match = longestPrefixParams(at, leadingDigits(input.number));
  return {
    sql: decisionText(`${at !== null}|${inScope.sql}`, () => decisionSql(inScope.sql, at !== null)),
    // The longest prefix twice: on the customer's card, and on each card the walk goes up to;
    // at an instant, the card the customer held then between them (`heldCardAtSql`).
    params: [input.accountId, ...inScope.params, ...match, ...(at ? [at] : []), ...match],
  };
}

const decisionText = statementTexts();

function decisionSql(inScope: string, at: boolean): string {
  const match = longestPrefixJoin('c.id', { at, join: 'left join lateral' });
  // At an instant, priced with the precision and rounding of the revision live then.
  const step = `c.id, c.parent_id, c.owner_id, c.kind, c.currency,
              coalesce(m.rev_decimals, c.decimals) as decimals,
              coalesce(m.rev_rounding, c.rounding) as rounding, m.prefix, m.rate,
              m.connection_fee, m.initial_increment, m.increment, m.grace_seconds,
              m.minimum_seconds, m.blocked, m.priced_by`;
  return `with recursive target as (
       select id, path from account where id = ? and ${inScope}),
     chain as (
       select ${step}, 0 as depth
         ${
           at
             ? `from card c ${match}
                where c.id = ${heldCardAtSql('(select id from target)', '?::timestamptz')}`
             : `from card_assignment ca join card c on c.id = ca.card_id ${match}
                where ca.account_id = (select id from target) and ca.exclusive`
         }
       union all
       select ${step}, chain.depth + 1
         from chain join card c on c.id = coalesce(chain.priced_by, chain.parent_id)
         ${match}
        where chain.depth < ${MAX_CHAIN}),
     levels as materialized (
       select a.id, a.kind, a.path, a.depth, a.status, a.credit_blocked,
              a.credit_limit::text as credit_limit, a.balance::text as balance, a.currency,
              (extract(epoch from a.placed_at) * 1000)::text as placed_ms,
              (select chain.depth from chain
                where case when a.id = (select id from target) then chain.depth = 0
                           when a.parent_id is null then chain.parent_id is null
                                and chain.depth > 0 and chain.owner_id = a.id
                                and chain.kind = 'provider'
                           else chain.owner_id = a.parent_id end
                order by chain.depth limit 1) as card_depth
         from account a
        where a.id = any(string_to_array(rtrim((select path from target), '/'), '/')::uuid[]))
     select json_agg(decided order by decided.depth desc) from (
       select l.id, l.kind, l.path, l.depth, l.status, l.credit_blocked, l.credit_limit,
              l.balance, l.currency, l.placed_ms, m.id as card_id, m.currency as card_currency,
              m.decimals, m.rounding, m.prefix, m.rate, m.connection_fee, m.initial_increment, m.increment,
              m.grace_seconds, m.minimum_seconds, m.blocked
         from levels l
         left join chain m on m.depth = l.card_depth) decided`;
}

/** Cards a chain goes up at most: parent links never loop; this only bounds the walk. */
const MAX_CHAIN = 64;
