import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { TActor } from '@/lib/server/authz/actor';
import { belowSql, carrierIdOf, isWithin, parentPathOf } from '@/lib/server/authz/scope';
import { directQuery, pgArray } from '@/lib/server/db/direct-query';
import { copyRows, type TStagedValue } from '@/lib/server/db/stage-rows';
import { conflict } from '@/lib/server/errors/domain-error';
import { atCommitOrder, mutate, type TChange } from '@/lib/server/live/change-log';
import { accountFromRow } from '@/lib/server/services/accounts/account-scope';
import {
  atScale,
  creditKey,
  toAccountDto,
  type TAccountFields,
} from '@/lib/server/services/accounts/account-dto';
import { ancestorIds } from '@/lib/server/services/accounts/account-tree';
import { noticeCreditCrossing } from '@/lib/server/services/ledger/credit-notice';
import { LEDGER_CLOCK } from '@/lib/server/services/ledger/ledger-store';
import { FIXED_BY_CARDS, reasonFor } from './unrated-reason';
import { viewerDepth } from './list-usage';
import {
  leadingValues,
  longestMatch,
  revisionCache,
  type TRevisionRates,
  type TRevisionRow,
} from '@/lib/server/services/rates/revision-cache';
import { billedSeconds, callPriceMicro, fromMicro, toMicro } from '@/lib/shared/pricing/billing';
import { Money, type TRoundingMode } from '@/lib/shared/pricing/money';
import type { TLiveResource } from '@/lib/shared/live/change';
import {
  cardHeldAt,
  spansSinceSql,
  type TCardSpan,
} from '@/lib/server/services/assignments/held-card';
import type { TUnratedReason, TUsageOutcome, TUsagePosted } from '@/lib/shared/schemas/usage';

/** One call to rate: a new record (from a request) or an unrated one again (`recordId`). */
export interface TCallToRate {
  cdrId: string;
  accountId: string;
  /** Digits only (the schema normalized it). */
  number: string;
  /** ISO time. */
  startedAt: string;
  seconds: number;
  recordId?: string;
  /**
   * A re-rated record's path as stored: the customer's path when it was first decided
   * (the poster's, for a call of no customer of its scope). It keeps it unless rated now.
   */
  path?: string;
  /**
   * A re-rate's time (ISO): a call the cards of its start cannot price (`FIXED_BY_CARDS`)
   * is priced by the cards as they stand then, if those can (rerate-usage.ts).
   */
  fixedAt?: string;
}

/** When a call's cards may be read (ms): at its start, then at a re-rate's `fixedAt`. */
function pricingTimes(call: TCallToRate): number[] {
  const start = Date.parse(call.startedAt);
  return call.fixedAt === undefined ? [start] : [start, Date.parse(call.fixedAt)];
}

/**
 * A balance is kept as numeric(18,6): 12 integer digits (as the ledger's `postEntry`); a
 * balance or an entry's amount stays under 1e12, here in millionths.
 */
const BALANCE_LIMIT_MICRO = 10n ** 18n;
const abs = (value: bigint) => (value < 0n ? -value : value);

/**
 * Rates a batch of calls inside the caller's `mutate` (one transaction) — a handful of
 * statements whatever the batch's size, none per call:
 *
 * 1. The customers (in the poster's scope) and their cards, every card above each up all
 *    its parent links with its revisions: two reads of a few rows.
 * 2. Every account on those customers' paths locked, in id order (one batch at a time
 *    per account; balances read under the lock); then the calls this poster stored
 *    before (duplicates: looked for under the locks, so a concurrent replay of the same calls
 *    waits for the first and finds them).
 * 3. Each call, in the process: what stops it before pricing (an unknown account, a call
 *    from before the customer's transfer (`moved`), an account on its path suspended at
 *    its start (`suspendedAt`) or blocked for credit, no card), then its chain walked up from
 *    its card by the parent that priced each matched row (`walk`: the price trace's way),
 *    an account on its path without a card to pay by on it (`no_card`, as authorize
 *    refuses), each level priced — the card's revision live at the call's start, the longest prefix in effect
 *    then (revision-cache.ts: the lookup's rule on the revision's rows in memory), the
 *    row's billing structure and the card's rounding (`callPriceMicro`: exact, held to the
 *    pricing core). A level without a rate, a blocked one, a card in another currency
 *    than its payer's: unrated.
 * 4. Credit, in start order: a call is charged while every level's payer still has credit
 *    before it (balance + limit − what the batch charged it so far > 0); later calls of
 *    a payer whose credit ran out are unrated `credit_blocked`.
 * 5. Written in four steps: ids for the new records from their sequence; one `usage`
 *    ledger entry per payer and counterparty, summed here, with each payer's balance
 *    moved once (flipping `credit_blocked` where its credit ran out) — one statement;
 *    the records (or the re-rated ones' outcome) and the charges, each by COPY
 *    (stage-rows.ts): no statement per call, and no staging table to copy through.
 * 6. One change per account moved (reason `ledger`, kind `usage`) and the credit notice of
 *    any crossing, as a payment raises it.
 */
export async function rateBatch(
  tx: EntityManager,
  actor: TActor,
  record: (change: TChange) => void,
  calls: readonly TCallToRate[],
  mode: 'new' | 'rerate',
): Promise<TUsagePosted> {
  const batchId = randomUUID();
  const carrierId = carrierIdOf(actor.account.path);

  // 1.
  const plan = await readPlan(tx, actor, calls);

  // 2.
  const lockIds = [
    ...new Set([...plan.customers.values()].flatMap((c) => ancestorIds(c.path))),
  ].sort();
  const locked = lockIds.length
    ? (
        await directQuery(
          tx,
          `select * from account where id = any(?::uuid[]) order by id for no key update`,
          [pgArray(lockIds)],
        )
      ).map(accountFromRow)
    : [];
  const byId = new Map(locked.map((account) => [account.id, account]));
  // The plan was read before the locks: a customer moved meanwhile (a transfer committed
  // while the batch queued) would be charged along its old chain and filed under its old
  // path. Nothing is written; the switch sends the batch again, as for any `busy`.
  for (const [id, customer] of plan.customers) {
    if (byId.get(id)?.path !== customer.path) {
      throw conflict('busy', 'An account of this batch moved while it was rated; try again.');
    }
  }
  const stored =
    mode === 'new'
      ? new Map(
          (
            await directQuery<TStoredCall>(
              tx,
              `select cdr_id, id::text as id, reason, reason_depth, account_id, number, seconds,
                      (extract(epoch from started_at) * 1000)::bigint::text as started_ms
                 from usage_record
                where poster_account_id = ? and cdr_id = any(?::text[])`,
              [actor.account.id, pgArray([...new Set(calls.map((c) => c.cdrId))])],
            )
          ).map((row) => [row.cdr_id, row]),
        )
      : new Map<string, TStoredCall>();
  if (mode === 'new') refuseChangedReplays(calls, stored);
  // The batch's time, taken once its accounts are held, by the database's clock as every
  // ledger entry is (LEDGER_CLOCK): a payment (or another batch) to one of them committed
  // before the locks was stamped earlier and has a lower id, so the ledger's times follow
  // its ids per account, as a statement's months require (statement-figures.ts splits by
  // time and reads balances by id).
  const [clock] = await directQuery<{ now: Date }>(tx, `select ${LEDGER_CLOCK} as now`);
  const now = new Date(clock!.now);

  // 3.
  const rated = await priceCalls(tx, plan, byId, calls, stored);
  if (plan.customers.size) {
    const times = calls.flatMap(pricingTimes);
    const span = { earliest: Math.min(...times), latest: Math.max(...times) };
    atCommitOrder(record, carrierId, (tx) => assertPlanUnchanged(tx, plan, span, calls));
  }

  // 4.
  applyCredit(rated, locked);

  // 5.
  const fresh = rated.filter((call) => call.first);
  const ids =
    mode === 'new'
      ? await reserveRecordIds(tx, fresh.length)
      : fresh.map((call) => call.call.recordId!);
  const entries = await postEntries(tx, actor, batchId, now, fresh, byId);
  if (mode === 'new') {
    // Record ids in their cdr order: concurrent batches sending the same ids (which share
    // no account lock only when they name different customers) meet on the unique key in
    // one order, so one waits for the other instead of both deadlocking.
    const order = fresh
      .map((_, index) => index)
      .sort((a, b) =>
        fresh[a]!.call.cdrId < fresh[b]!.call.cdrId
          ? -1
          : fresh[a]!.call.cdrId > fresh[b]!.call.cdrId
            ? 1
            : 0,
      );
    await copyRows(
      tx,
      'usage_record',
      RECORD_COLUMNS,
      order.map((index) => {
        const { call, reason, reasonDepth, path } = fresh[index]!;
        return [
          ids[index]!,
          carrierId,
          call.cdrId,
          call.accountId,
          call.number,
          call.startedAt,
          call.seconds,
          reason === null ? 'rated' : 'unrated',
          reason,
          reasonDepth,
          path ?? actor.account.path,
          now.toISOString(),
          reason === null ? now.toISOString() : null,
          batchId,
          actor.account.id,
          actor.userId,
        ];
      }),
    );
  } else {
    await directQuery(
      tx,
      `update usage_record r
          set status = case when x.reason is null then 'rated' else 'unrated' end,
              reason = x.reason, reason_depth = x.reason_depth, path = coalesce(x.path, r.path),
              rated_at = case when x.reason is null then ?::timestamptz end,
              -- Credit may have refused a call the re-rate's cards priced.
              priced_at = case when x.reason is null then x.priced_at end,
              batch_id = ?::uuid, attempts = r.attempts + 1
         from unnest(?::bigint[], ?::text[], ?::smallint[], ?::text[], ?::timestamptz[])
                as x(id, reason, reason_depth, path, priced_at)
        where r.id = x.id`,
      [
        now,
        batchId,
        pgArray(ids),
        pgArray(fresh.map((call) => call.reason)),
        pgArray(fresh.map((call) => call.reasonDepth)),
        pgArray(fresh.map((call) => call.path)),
        pgArray(fresh.map((call) => call.pricedAt)),
      ],
    );
  }
  await copyRows(
    tx,
    'usage_charge',
    CHARGE_COLUMNS,
    fresh.flatMap((call, index) =>
      call.levels.map((level): TStagedValue[] => [
        ids[index]!,
        level.level,
        level.payerId,
        level.payerDepth,
        level.counterpartyId,
        level.cardId,
        level.prefix,
        level.destination,
        level.billedSeconds,
        fromMicro(level.amount),
        level.currency,
        entries.idOf(level.payerId, level.counterpartyId),
      ]),
    ),
  );
  // The answer is the poster's: a card's trouble above it reads `no_route`.
  const outcome = outcomes(batchId, rated, ids, viewerDepth(actor));

  // 6.
  const moved = entries.moved;
  const after = new Map(
    moved.map((row) => {
      const before = byId.get(row.id)!;
      const account: TAccountFields = {
        ...before,
        balance: row.balance,
        creditBlocked: row.credit_blocked,
        version: row.version,
        updatedAt: new Date(row.updated_at),
      };
      return [row.id, account] as const;
    }),
  );
  const blockingBefore = blockingSet(locked);
  const blockingAfter = blockingSet(locked.map((account) => after.get(account.id) ?? account));
  const entriesOf = new Map<string, TEntryRow[]>();
  for (const entry of entries.rows) {
    entriesOf.set(entry.account_id, [...(entriesOf.get(entry.account_id) ?? []), entry]);
  }
  for (const [id, account] of after) {
    const before = byId.get(id)!;
    const entries = entriesOf.get(id) ?? [];
    record(balanceChange(before, account, blockingBefore, blockingAfter, byId, entries));
    if (account.kind !== 'carrier') await noticeCreditCrossing(tx, record, before, account);
  }
  // Calls stored for a customer that moved no balance (every one unrated, or free) write
  // no ledger entry, so nothing above tells the traffic views watching that customer —
  // its Unrated count, its calls — least of all when it ran out of credit. One light
  // change each, the account as it stands, `reason: 'calls'`: they follow it as they
  // follow a balance moved by calls (coalesced alike: lib/server/live/balance-only.ts).
  // Only calls filed under the customer as it stands: one from before a transfer (`moved`)
  // is filed under its old side or its poster, and telling its new parent would give
  // that parent the count and time of calls from before its time.
  const quiet = new Map<string, { calls: number; unrated: number }>();
  for (const { call, reason, path } of fresh) {
    if (after.has(call.accountId) || path !== plan.customers.get(call.accountId)?.path) continue;
    const tally = quiet.get(call.accountId) ?? { calls: 0, unrated: 0 };
    tally.calls += 1;
    if (reason !== null) tally.unrated += 1;
    quiet.set(call.accountId, tally);
  }
  for (const [id, tally] of quiet) {
    const account = byId.get(id);
    if (account?.kind === 'customer') record(callsChange(account, blockingAfter, byId, tally));
  }
  return outcome;
}

/**
 * A customer of the batch: its path, the cards it held over the batch's calls (a call
 * takes `cardHeldAt` its start), and since when it is on that path (ms; null: since it
 * was made — a transfer sets it).
 */
interface TCustomer {
  path: string;
  spans: TCardSpan[];
  placedAt: number | null;
}

/** Card `c`'s revisions as `TChainCard.revisions` (json), those `where` also keeps. */
function revisionsSql(where = ''): string {
  return `coalesce((select json_agg(json_build_object('n', r.number,
                                  'at', ceil(extract(epoch from r.live_at) * 1000)::bigint,
                                  'd', coalesce(r.decimals, c.decimals),
                                  'r', coalesce(r.rounding, c.rounding))
                                  order by r.number)
                            from rate_revision r
                           where r.card_id = c.id and r.cancelled_at is null ${where}), '[]')`;
}

/**
 * What the batch priced by moved after the plan read it: a card's revisions, a customer's
 * cards over time. The batch is rated again (`mutateRating`).
 */
class PlanMoved extends Error {}

/**
 * In the carrier's commit order (`atCommitOrder`), where a rate write dates its live-now
 * revisions (revisions.ts `settleDates`) and an assignment's writer its customer's card
 * spans (assignments/span-dating.ts): the plan still holds what the batch priced by —
 * the cards' revisions dated at or before its latest call (`span.latest`, ms), the only
 * ones a call of it can be priced by, and the card each customer's spans give each call. A
 * write that committed since sends it round again; one that commits later dates what it
 * changed after this commit, so covers none of its calls.
 */
async function assertPlanUnchanged(
  tx: EntityManager,
  plan: TPlan,
  span: { earliest: number; latest: number },
  calls: readonly TCallToRate[],
): Promise<void> {
  // Only what pricing reads (the check holds the carrier's head: kept short).
  if (plan.cards.size) {
    const now = await directQuery<{ id: string; revisions: TChainCard['revisions'] }>(
      tx,
      `select c.id, ${revisionsSql('and ceil(extract(epoch from r.live_at) * 1000) <= ?')} as revisions
         from card c where c.id = any(?::uuid[])`,
      [span.latest, pgArray([...plan.cards.keys()])],
    );
    const pricing = (revisions: TChainCard['revisions'] | undefined) =>
      JSON.stringify((revisions ?? []).filter((revision) => revision.at <= span.latest));
    const read = new Map(now.map((card) => [card.id, pricing(card.revisions)]));
    for (const [id, card] of plan.cards) {
      if (read.get(id) !== pricing(card.revisions)) throw new PlanMoved();
    }
  }
  const held = await directQuery<{ id: string; spans: TCardSpan[] }>(
    tx,
    `select a.id, ${spansSinceSql('a.id')} as spans from account a where a.id = any(?::uuid[])`,
    [span.earliest, pgArray([...plan.customers.keys()])],
  );
  // Compared by what they price: the card each call takes (`cardHeldAt`). A span closed
  // or opened after every call of the batch changes nothing it charged.
  const spans = new Map(held.map((row) => [row.id, row.spans]));
  for (const call of calls) {
    const customer = plan.customers.get(call.accountId);
    if (!customer) continue;
    for (const at of pricingTimes(call)) {
      if (cardHeldAt(spans.get(call.accountId) ?? [], at) !== cardHeldAt(customer.spans, at)) {
        throw new PlanMoved();
      }
    }
  }
}

/**
 * `mutate` for a rating batch: run again when `assertPlanUnchanged` finds what it priced
 * by moved (nothing was written; the next round reads them afresh), up to three
 * times in all, then 409 `busy` — the switch sends the batch again, as for any `busy`.
 * `warm` runs before each round, outside its transaction: a new revision's rows are read
 * into memory there, not under the accounts' locks (`warmRates`).
 */
export async function mutateRating<T>(
  em: EntityManager,
  actor: TActor,
  warm: () => Promise<void>,
  work: (tx: EntityManager, record: (change: TChange) => void) => Promise<T>,
): Promise<T> {
  for (let round = 1; ; round++) {
    await warm();
    try {
      return await mutate(em, actor, work);
    } catch (error) {
      if (!(error instanceof PlanMoved)) throw error;
      if (round === 3) {
        throw conflict(
          'busy',
          'A rate card or a card held by a customer of this batch changed while it was rated; try again.',
        );
      }
    }
  }
}

/** A card on a chain, as the rating reads it. */
interface TChainCard {
  id: string;
  parent_id: string | null;
  owner_id: string;
  kind: 'provider' | 'customer';
  currency: string;
  decimals: number;
  rounding: TRoundingMode;
  /**
   * Its revisions not cancelled: number, when each goes live (ms), and the precision and
   * rounding each prices calls with (`d`, `r`).
   */
  revisions: { n: number; at: number; d: number; r: TRoundingMode }[];
}

/** One charged level of a call's chain; `payerId` null at level 0: the call's customer. */
interface TLevelCard {
  level: number;
  card: TChainCard;
  match: TRevisionRow | null;
  payerId: string | null;
  counterpartyId: string | null;
}

interface TPlan {
  customers: Map<string, TCustomer>;
  /** Every card above a held card, through every parent it follows, by id. */
  cards: Map<string, TChainCard>;
  /** Per held card, the cards a call on it may meet (itself first): what to load. */
  reach: Map<string, TChainCard[]>;
}

/**
 * Step 1: the calls' customers (kind customer, strictly below the poster) with the cards
 * they held over the calls' times, and every card above each held card, through all its
 * parents (`card_parent`; a card written before it, the one `parent_id`), with its
 * revisions: which parent a call goes up by is the matched row's (`priced_by`), known only
 * per call (`walk`). Also run before the transaction opens (`warmRates`), so reading
 * revisions into memory holds no lock.
 */
async function readPlan(
  em: EntityManager,
  actor: TActor,
  calls: readonly TCallToRate[],
): Promise<TPlan> {
  const scope = belowSql('a.path', actor.account.path);
  const accountIds = [...new Set(calls.map((call) => call.accountId))];
  // Only the spans a call of the batch can fall in: not ended before its earliest start.
  const earliest = Math.min(...calls.map((call) => Date.parse(call.startedAt)));
  const found = await directQuery<{
    id: string;
    path: string;
    spans: TCardSpan[];
    placed_ms: string | null;
  }>(
    em,
    `select a.id, a.path, ${spansSinceSql('a.id')} as spans,
            (extract(epoch from a.placed_at) * 1000)::text as placed_ms
       from account a
      where a.id = any(?::uuid[]) and a.kind = 'customer' and ${scope.sql}`,
    [earliest, pgArray(accountIds), ...scope.params],
  );
  const customers = new Map(
    found.map((row) => [
      row.id,
      {
        path: row.path,
        spans: row.spans,
        placedAt: row.placed_ms === null ? null : Number(row.placed_ms),
      },
    ]),
  );
  const starts = [...new Set(found.flatMap((row) => row.spans.map((span) => span.card)))];
  const chain = starts.length
    ? await directQuery<TChainCard & { start_id: string }>(
        em,
        `with recursive chain as (
           select c.id as start_id, c.id from card c where c.id = any(?::uuid[])
           union
           select chain.start_id, up.id
             from chain join card c on c.id = chain.id
            cross join lateral (
              select c.parent_id as id where c.parent_id is not null
              union select cp.parent_id from card_parent cp where cp.card_id = c.id
              -- A parent it followed before: an earlier revision's rows may name it.
              union select fp.parent_id from card_former_parent fp where fp.card_id = c.id) up)
         select chain.start_id, c.id, c.parent_id, c.owner_id, c.kind, c.currency, c.decimals,
                c.rounding,
                ${revisionsSql()} as revisions
           from chain join card c on c.id = chain.id
          order by chain.start_id, c.id = chain.start_id desc`,
        [pgArray(starts)],
      )
    : [];
  const cards = new Map<string, TChainCard>();
  const reach = new Map<string, TChainCard[]>();
  for (const { start_id, ...card } of chain) {
    const known = cards.get(card.id) ?? card;
    cards.set(card.id, known);
    reach.set(start_id, [...(reach.get(start_id) ?? []), known]);
  }
  return { customers, cards, reach };
}

/** A card a call's chain goes through, and its longest prefix for the number then. */
interface TStep {
  card: TChainCard;
  match: TRevisionRow | null;
}

/**
 * A call's chain from the card it was placed on up: at each card its longest prefix for
 * the number at the call's start (the revision live then), and up to the parent that
 * priced that row (`priced_by`; the first parent where no row matched) — the price
 * trace's walk (lookup-rates.ts), so a card following several parents is paid for on
 * the parent that priced the call, and that parent's chain above it.
 */
function walk(
  plan: TPlan,
  sets: TRevisionSets,
  startId: string,
  number: string,
  leading: readonly number[],
  at: number,
): TStep[] {
  const steps: TStep[] = [];
  const seen = new Set<string>();
  let card = plan.cards.get(startId);
  // A card's links to its former parents (`card_former_parent`) may loop with its
  // current ones: each card once, held to the cards read.
  while (card && !seen.has(card.id) && steps.length <= plan.cards.size) {
    seen.add(card.id);
    const n = revisionAt(card, at);
    const rates = n === null ? undefined : sets.get(card.id)?.get(n);
    const match = rates ? longestMatch(rates, number, leading, at) : null;
    steps.push({ card, match });
    const up = match?.pricedBy ?? card.parent_id;
    card = up ? plan.cards.get(up) : undefined;
  }
  return steps;
}

/**
 * The levels a call charges: one per account on the customer's path (`accounts`, the
 * customer first, up to the carrier), each on the card that account pays by on the
 * call's walk — authorize-call.ts's rule, so a call the switch is allowed is rated and
 * one it is refused for a card is not: the customer its own card, paid to the card's
 * owner; a reseller the first card on the walk its parent owns (the card the parent gave
 * it, from which its own derive), paid to the parent; the carrier the walk's top card
 * when that is its own provider card above the customer's (its upstream cost, no
 * counterparty). A card between two of one owner's cards charges no one. When an
 * account has no such card — the walk ends in a reseller's own card, or in a carrier
 * card derived from no provider card — nothing says what it pays (`no_card`), and no
 * level rides free: `missingAt` is that account's index in `accounts`.
 */
function chargedLevels(
  steps: readonly TStep[],
  accounts: readonly string[],
): TLevelCard[] | { missingAt: number } {
  const top = steps.at(-1);
  const levels: TLevelCard[] = [];
  for (const [index, accountId] of accounts.entries()) {
    const parentId = accounts[index + 1];
    const step =
      index === 0
        ? steps[0]
        : parentId !== undefined
          ? steps.find(({ card }) => card.owner_id === parentId)
          : steps.length > 1 &&
              top!.card.parent_id === null &&
              top!.card.owner_id === accountId &&
              top!.card.kind === 'provider'
            ? top
            : undefined;
    if (!step) return { missingAt: index };
    levels.push({
      level: index,
      card: step.card,
      match: step.match,
      payerId: index === 0 ? null : accountId,
      counterpartyId: parentId === undefined ? null : step.card.owner_id,
    });
  }
  return levels;
}

/**
 * The revision of a card live at `at` (ms): the latest by number whose date has come.
 * Revision dates are read rounded up to the millisecond, so "has come" at a call's
 * millisecond is the same answer as PostgreSQL's at microseconds.
 */
function revisionAt(card: TChainCard, at: number): number | null {
  return liveRevisionAt(card, at)?.n ?? null;
}

function liveRevisionAt(card: TChainCard, at: number): TChainCard['revisions'][number] | null {
  let live: TChainCard['revisions'][number] | null = null;
  for (const revision of card.revisions) if (revision.at <= at) live = revision;
  return live;
}

/**
 * The precision and rounding a call at `at` is priced with on `card`: its revision's
 * then, so a later change of either leaves the calls before it at the price they were
 * billed (Migration20261220200000).
 */
function termsAt(card: TChainCard, at: number): { decimals: number; rounding: TRoundingMode } {
  const live = liveRevisionAt(card, at);
  return live ? { decimals: live.d, rounding: live.r } : card;
}

/**
 * Reads into memory, before the transaction that rates them, the card revisions a batch
 * will need (revision-cache.ts): on a cold cache this is the slow part (every row of
 * each card), and inside the transaction it would hold the accounts' locks.
 */
export async function warmRates(
  em: EntityManager,
  actor: TActor,
  calls: readonly TCallToRate[],
): Promise<void> {
  // Nothing to rate (a re-rate of nothing re-ratable): nothing to read, and no earliest
  // start to read spans from (the embedded database's inlined parameters would write an
  // infinite one as a column name).
  if (!calls.length) return;
  const plan = await readPlan(em, actor, calls);
  await loadRevisions(em, plan, calls);
}

/** Revisions in memory by card id and revision number. */
type TRevisionSets = Map<string, Map<number, TRevisionRates>>;

/** The revisions the calls need, from the cache (read through `em` when missing). */
async function loadRevisions(
  em: EntityManager,
  plan: TPlan,
  calls: readonly TCallToRate[],
): Promise<TRevisionSets> {
  const wanted = new Map<string, Set<number>>();
  for (const call of calls) {
    const customer = plan.customers.get(call.accountId);
    for (const at of pricingTimes(call)) {
      const cardId = customer ? cardHeldAt(customer.spans, at) : null;
      if (!cardId) continue;
      // Every card the call may go through: which parent it goes up by is known only once
      // the card below is matched.
      for (const card of plan.reach.get(cardId) ?? []) {
        const n = revisionAt(card, at);
        if (n === null) continue;
        let numbers = wanted.get(card.id);
        if (!numbers) wanted.set(card.id, (numbers = new Set()));
        numbers.add(n);
      }
    }
  }
  const cache = revisionCache();
  const sets: TRevisionSets = new Map();
  // One at a time: a cold batch reads each card once, never several 100k-row reads at once.
  for (const [cardId, numbers] of wanted) {
    const byNumber = new Map<number, TRevisionRates>();
    for (const n of numbers) byNumber.set(n, await cache.get(em, cardId, n));
    sets.set(cardId, byNumber);
  }
  return sets;
}

/** A level of a call, priced. */
interface TPricedLevel {
  level: number;
  cardId: string;
  payerId: string;
  payerDepth: number;
  counterpartyId: string | null;
  prefix: string;
  destination: string;
  billedSeconds: number;
  amount: bigint;
  currency: string;
}

/**
 * A record's id is the switch's idempotency key: sent again, it must name the same call
 * (account, number, start in any offset, seconds), or the batch is 409
 * `idempotency_conflict` naming each such record, with nothing written — as a payment's
 * key sent with another body. Answering it `duplicate` would drop a corrected duration
 * without a word. Stored records come with their facts from the read that finds them.
 */
function refuseChangedReplays(
  calls: readonly TCallToRate[],
  stored: ReadonlyMap<string, TStoredCall>,
): void {
  const fields: Record<string, string> = {};
  const firstOf = new Map<string, TCallToRate>();
  calls.forEach((call, index) => {
    const earlier = stored.get(call.cdrId);
    const first = firstOf.get(call.cdrId);
    if (earlier ? !sameAsStored(earlier, call) : first && !sameCall(first, call)) {
      fields[`records.${index}.id`] = CHANGED_REPLAY;
    }
    if (!first) firstOf.set(call.cdrId, call);
  });
  if (Object.keys(fields).length) {
    throw conflict(
      'idempotency_conflict',
      'Some record ids were sent before for another call; nothing was written. A call record is never changed once sent: send a corrected call under a new id.',
      { fields },
    );
  }
}

/** A record this poster stored before, with the facts of its call. */
interface TStoredCall {
  cdr_id: string;
  id: string;
  reason: TUnratedReason | null;
  reason_depth: number | null;
  account_id: string;
  number: string;
  seconds: number;
  /** Its start in ms (a call's start is kept to the millisecond: `postUsage`). */
  started_ms: string;
}

function sameAsStored(stored: TStoredCall, call: TCallToRate): boolean {
  return (
    stored.account_id === call.accountId &&
    stored.number === call.number &&
    stored.seconds === call.seconds &&
    Number(stored.started_ms) === Date.parse(call.startedAt)
  );
}

const CHANGED_REPLAY = 'was sent before for another call';

/** The same call: the same account, number, seconds and start (`toISOString`'s, UTC). */
function sameCall(a: TCallToRate, b: TCallToRate): boolean {
  return (
    a.accountId === b.accountId &&
    a.number === b.number &&
    a.seconds === b.seconds &&
    a.startedAt === b.startedAt
  );
}

/** A record a call of the batch repeats, and why it was not rated (if it was not). */
interface TEarlierRecord {
  id: string;
  reason: TUnratedReason | null;
  reason_depth: number | null;
}

/** A call of the batch and what became of it. */
interface TRatedCall {
  index: number;
  call: TCallToRate;
  /** Its start (ms). */
  at: number;
  /** When its cards priced it, if not at its start (ISO: `TCallToRate.fixedAt`). */
  pricedAt: string | null;
  /** The first time the batch names this record id (later ones are duplicates of it). */
  first: boolean;
  /** Stored before this batch (a duplicate). */
  stored: TEarlierRecord | null;
  /** The customer's path, or null for an account not in scope. */
  path: string | null;
  reason: TUnratedReason | null;
  /** For a card's trouble: the depth of the account paying where it arose (unrated-reason.ts). */
  reasonDepth: number | null;
  levels: TPricedLevel[];
}

/**
 * Whether an account was suspended at a time (ms): its suspensions
 * (`account_suspension`, Migration20261231100000) over the calls' starts, read under the
 * accounts' locks — a suspension is written under its account's row lock, so none
 * commits while the batch holds them. A span holds from its start up to its end.
 */
async function suspendedAt(
  tx: EntityManager,
  accountIds: readonly string[],
  calls: readonly TCallToRate[],
): Promise<(accountId: string, at: number) => boolean> {
  if (accountIds.length === 0 || calls.length === 0) return () => false;
  const starts = calls.map((call) => Date.parse(call.startedAt)).filter(Number.isFinite);
  if (starts.length === 0) return () => false;
  const rows = await directQuery<{ account_id: string; from_ms: number; to_ms: number | null }>(
    tx,
    `select account_id, (extract(epoch from from_at) * 1000)::float8 as from_ms,
            (extract(epoch from to_at) * 1000)::float8 as to_ms
       from account_suspension
      where account_id = any(?::uuid[]) and from_at <= to_timestamp(?::float8 / 1000)
        and (to_at is null or to_at > to_timestamp(?::float8 / 1000))`,
    [pgArray(accountIds), Math.max(...starts), Math.min(...starts)],
  );
  const spans = new Map<string, { from: number; to: number | null }[]>();
  for (const row of rows) {
    const list = spans.get(row.account_id) ?? [];
    list.push({ from: Number(row.from_ms), to: row.to_ms === null ? null : Number(row.to_ms) });
    spans.set(row.account_id, list);
  }
  return (accountId, at) =>
    (spans.get(accountId) ?? []).some(
      (span) => span.from <= at && (span.to === null || at < span.to),
    );
}

/** Step 3: each call's reason not to be rated, or each of its levels priced. */
async function priceCalls(
  tx: EntityManager,
  plan: TPlan,
  byId: Map<string, TAccountFields>,
  calls: readonly TCallToRate[],
  stored: Map<string, TEarlierRecord>,
): Promise<TRatedCall[]> {
  const sets = await loadRevisions(tx, plan, calls);
  const suspended = await suspendedAt(tx, [...byId.keys()], calls);
  // Blocked for credit before the batch, decided once per customer: its own crossing in
  // the batch is step 4's.
  const creditStops = new Set<string>();
  // The accounts on each customer's path, the customer first: the levels a call charges.
  const accountsOf = new Map<string, string[]>();
  for (const [id, customer] of plan.customers) {
    accountsOf.set(id, ancestorIds(customer.path).reverse());
    const path = ancestorIds(customer.path).map((ancestor) => byId.get(ancestor));
    if (path.some((account) => account?.creditBlocked)) creditStops.add(id);
  }
  const seen = new Set<string>();
  return calls.map((call, index): TRatedCall => {
    const key = recordKey(call);
    const first = !seen.has(key) && !stored.has(key);
    seen.add(key);
    const customer = plan.customers.get(call.accountId);
    const rated: TRatedCall = {
      index,
      call,
      at: Date.parse(call.startedAt),
      pricedAt: null,
      first,
      stored: stored.get(key) ?? null,
      path: customer?.path ?? null,
      reason: null,
      reasonDepth: null,
      levels: [],
    };
    if (!first) return rated;
    if (!customer) return { ...rated, reason: 'unknown_account' };
    if (movedSince(call, customer, rated.at)) {
      return { ...rated, reason: 'moved', path: call.path ?? null };
    }
    // A stored record filed under its poster (a call of no customer in the poster's scope
    // when it came) is priced only for a customer now within it: a re-rate from higher up
    // sees more customers than the poster, and must not charge one the poster never had.
    if (call.path !== undefined && !isWithin(call.path, customer.path)) {
      return { ...rated, reason: 'unknown_account', path: call.path };
    }
    // Suspended when the call started (an account on its path), not when it is posted.
    if (accountsOf.get(call.accountId)!.some((id) => suspended(id, rated.at))) {
      return { ...rated, reason: 'account_suspended' };
    }
    if (creditStops.has(call.accountId)) return { ...rated, reason: 'credit_blocked' };
    // Priced by the cards at its start; a re-rate of a call those could not price, by the
    // cards as they stand at the re-rate (`fixedAt`), if those can.
    const leading = leadingValues(call.number);
    const chain = accountsOf.get(call.accountId)!;
    const depthOf = (accountId: string) => byId.get(accountId)!.depth;
    const priceAt = (at: number): TRatedCall => {
      const cardId = cardHeldAt(customer.spans, at);
      if (!cardId) return { ...rated, reason: 'no_card', reasonDepth: depthOf(call.accountId) };
      const steps = walk(plan, sets, cardId, call.number, leading, at);
      const levels = chargedLevels(steps, chain);
      if ('missingAt' in levels) {
        return { ...rated, reason: 'no_card', reasonDepth: depthOf(chain[levels.missingAt]!) };
      }
      // Payers are the customer and accounts above it (a card is assigned to a direct child of
      // its owner), all locked with the path.
      const payers = levels.map(({ card, payerId }) => {
        const payer = byId.get(payerId ?? call.accountId);
        if (!payer) throw new Error(`card ${card.id} is paid by an account off its path`);
        return payer;
      });
      // Which level refuses, and why, by POST /authorize's rule (authorize-call.ts
      // `LEVEL_CHECKS`), so both name the same reason at the same level: a card in another
      // currency than its payer's, from the customer up; then a blocked prefix, then a missing
      // route, from the top down (a block or a gap is its origin's: derived cards copy it).
      const mismatch = levels.findIndex(
        ({ card }, index) => card.currency !== payers[index]!.currency,
      );
      const blocked = levels.findLastIndex(({ match }) => match?.blocked === true);
      const unrouted = levels.findLastIndex(({ match }) => !match);
      const [refusal, where]: [TUnratedReason | null, number] =
        mismatch >= 0
          ? ['currency_mismatch', mismatch]
          : blocked >= 0
            ? ['blocked_prefix', blocked]
            : unrouted >= 0
              ? ['no_route', unrouted]
              : [null, -1];
      if (refusal) {
        // A missing route names no card's content: read as it is at every level.
        const reasonDepth = refusal === 'no_route' ? null : payers[where]!.depth;
        return { ...rated, reason: refusal, reasonDepth, levels: [] };
      }
      const priced: TPricedLevel[] = [];
      for (const [index, { level, card, match, counterpartyId }] of levels.entries()) {
        const payer = payers[index]!;
        const inGrace = call.seconds === 0 || call.seconds <= match!.graceSeconds;
        priced.push({
          level,
          cardId: card.id,
          payerId: payer.id,
          payerDepth: payer.depth,
          counterpartyId,
          prefix: match!.prefix,
          destination: match!.destination,
          billedSeconds: inGrace
            ? 0
            : billedSeconds(
                Math.max(call.seconds, match!.minimumSeconds ?? 0),
                match!.initialIncrement,
                match!.increment,
              ),
          amount: callPriceMicro(match!, call.seconds, termsAt(card, at)),
          currency: card.currency,
        });
      }
      return { ...rated, levels: priced };
    };
    const atStart = priceAt(rated.at);
    if (call.fixedAt === undefined || atStart.reason === null) return atStart;
    if (!FIXED_BY_CARDS.includes(atStart.reason)) return atStart;
    const fixed = priceAt(Date.parse(call.fixedAt));
    return fixed.reason === null ? { ...fixed, pricedAt: call.fixedAt } : atStart;
  });
}

/**
 * A call from before the customer's current place in the tree (ARCHITECTURE "Money": a
 * transfer moves the customer's path but not its past): it started before the transfer
 * took effect (`placed_at`), or it is a stored record filed under a path the customer had
 * and has no longer. Such a call is not priced on the new parent's chain nor filed under
 * its path: it stays unrated `moved` where it was — a stored record on its old path, a
 * new one on the poster's (who sent it; the path it had then is not known here).
 */
function movedSince(call: TCallToRate, customer: TCustomer, at: number): boolean {
  if (customer.placedAt !== null && at < customer.placedAt) return true;
  return (
    call.path !== undefined &&
    call.path.endsWith(`/${call.accountId}/`) &&
    call.path !== customer.path
  );
}

/**
 * Step 4: calls in start order (the batch's order for a tie); a call is charged while
 * every payer of it with a credit limit still has credit before it. A payer's credit
 * only ever goes down within a batch, so once one runs out every later call it pays is
 * refused, and a refused call charges no one.
 */
function applyCredit(rated: TRatedCall[], locked: TAccountFields[]): void {
  const available = new Map<string, bigint>();
  for (const account of locked) {
    if (account.creditLimit !== null && account.creditLimit !== undefined) {
      available.set(account.id, toMicro(account.balance) + toMicro(account.creditLimit));
    }
  }
  const order = rated
    .filter((call) => call.first && call.reason === null)
    .sort((a, b) => a.at - b.at || a.index - b.index);
  for (const call of order) {
    if (call.levels.some((level) => (available.get(level.payerId) ?? 1n) <= 0n)) {
      call.reason = 'credit_blocked';
      call.levels = [];
      continue;
    }
    for (const level of call.levels) {
      const left = available.get(level.payerId);
      if (left !== undefined) available.set(level.payerId, left - level.amount);
    }
  }
}

interface TAccountMoved {
  id: string;
  balance: string;
  credit_blocked: boolean;
  version: number;
  updated_at: string;
}

interface TEntryRow {
  id: string;
  account_id: string;
  counterparty_id: string | null;
  amount: string;
  calls: number;
}

const RECORD_COLUMNS = [
  ['id', 'bigint'],
  ['carrier_id', 'uuid'],
  ['cdr_id', 'text'],
  ['account_id', 'uuid'],
  ['number', 'text'],
  ['started_at', 'timestamptz'],
  ['seconds', 'int'],
  ['status', 'text'],
  ['reason', 'text'],
  ['reason_depth', 'smallint'],
  ['path', 'text'],
  ['received_at', 'timestamptz'],
  ['rated_at', 'timestamptz'],
  ['batch_id', 'uuid'],
  ['poster_account_id', 'uuid'],
  ['poster_user_id', 'uuid'],
] as const;

const CHARGE_COLUMNS = [
  ['record_id', 'bigint'],
  ['level', 'smallint'],
  ['payer_id', 'uuid'],
  ['payer_depth', 'smallint'],
  ['counterparty_id', 'uuid'],
  ['card_id', 'uuid'],
  ['prefix', 'text'],
  ['destination', 'text'],
  ['billed_seconds', 'int'],
  ['amount', 'numeric'],
  ['currency', 'text'],
  ['ledger_entry_id', 'bigint'],
] as const;

/** Ids for the new records, from their sequence, one round trip. */
async function reserveRecordIds(tx: EntityManager, count: number): Promise<string[]> {
  if (count === 0) return [];
  const [row] = await directQuery<{ ids: string[] }>(
    tx,
    `select array_agg(nextval('usage_record_id_seq')::text) as ids from generate_series(1, ?)`,
    [count],
  );
  return row!.ids;
}

/**
 * The batch's money: one `usage` entry per payer and counterparty (a payer may have two:
 * its parent's card, and its own provider card at the top of another chain), summed in
 * the process from the charges, each entry's `balance_after` in turn from the balance
 * read under the lock, and each payer's balance moved once — one statement. A level that
 * cost nothing has no entry (the ledger holds no zero movement).
 */
async function postEntries(
  tx: EntityManager,
  actor: TActor,
  batchId: string,
  now: Date,
  calls: TRatedCall[],
  byId: Map<string, TAccountFields>,
): Promise<{
  rows: TEntryRow[];
  moved: TAccountMoved[];
  idOf: (payerId: string, counterpartyId: string | null) => string | null;
}> {
  const sums = new Map<
    string,
    { payerId: string; counterpartyId: string | null; total: bigint; calls: number }
  >();
  for (const call of calls) {
    for (const level of call.levels) {
      const key = `${level.payerId}:${level.counterpartyId ?? ''}`;
      const sum = sums.get(key) ?? {
        payerId: level.payerId,
        counterpartyId: level.counterpartyId,
        total: 0n,
        calls: 0,
      };
      sum.total += level.amount;
      sum.calls++;
      sums.set(key, sum);
    }
  }
  const entries = [...sums.values()]
    .filter((sum) => sum.total !== 0n)
    .sort((a, b) => (a.payerId < b.payerId ? -1 : a.payerId > b.payerId ? 1 : 0));
  if (!entries.length) return { rows: [], moved: [], idOf: () => null };
  const balances = new Map<string, bigint>();
  const after = entries.map((entry) => {
    const balance =
      (balances.get(entry.payerId) ?? toMicro(byId.get(entry.payerId)!.balance)) - entry.total;
    // Before the statement: past it an amount or a balance would overflow its column
    // (numeric(18,6)), a refusal that names nothing.
    if (abs(balance) >= BALANCE_LIMIT_MICRO || abs(entry.total) >= BALANCE_LIMIT_MICRO) {
      throw conflict('balance_out_of_range', 'A balance would leave the range it is kept in.', {
        fields: {
          records: `would take ${byId.get(entry.payerId)!.name}'s balance out of range`,
        },
      });
    }
    balances.set(entry.payerId, balance);
    return balance;
  });
  const [written] = await directQuery<{ entries: TEntryRow[]; moved: TAccountMoved[] }>(
    tx,
    `with entry as (
       select * from unnest(?::uuid[], ?::uuid[], ?::numeric[], ?::numeric[], ?::int[])
         as x(account_id, counterparty_id, amount, balance_after, calls)),
     le as (
       insert into ledger_entry (account_id, counterparty_id, kind, amount, currency, balance_after,
         reference, idempotency_key, actor_user_id, actor_account_id, impersonator_user_id,
         created_at)
       select e.account_id, e.counterparty_id, 'usage', e.amount, a.currency, e.balance_after,
              ? || e.calls || case when e.calls = 1 then ' call' else ' calls' end,
              ? || coalesce(e.counterparty_id::text, 'own'), ?::uuid, ?::uuid, ?::uuid,
              ?::timestamptz
         from entry e join account a on a.id = e.account_id
       returning id, account_id, counterparty_id, amount),
     moved as (
       update account a set balance = a.balance + t.amount,
              credit_blocked = (a.credit_limit is not null
                                and a.balance + t.amount + a.credit_limit <= 0),
              updated_at = ?::timestamptz, version = a.version + 1
         from (select account_id, sum(amount) as amount from entry group by account_id) t
        where a.id = t.account_id
       returning a.id, a.balance::text as balance, a.credit_blocked, a.version, a.updated_at)
     select (select json_agg(json_build_object('id', le.id::text, 'account_id', le.account_id,
               'counterparty_id', le.counterparty_id, 'amount', le.amount::text, 'calls', e.calls))
               from le join entry e on e.account_id = le.account_id
                and e.counterparty_id is not distinct from le.counterparty_id) as entries,
            (select json_agg(moved) from moved) as moved`,
    [
      pgArray(entries.map((entry) => entry.payerId)),
      pgArray(entries.map((entry) => entry.counterpartyId)),
      pgArray(entries.map((entry) => fromMicro(-entry.total))),
      pgArray(after.map((balance) => fromMicro(balance))),
      pgArray(entries.map((entry) => entry.calls)),
      `usage batch ${batchId}: `,
      `usage:${batchId}:`,
      actor.userId,
      actor.account.id,
      actor.impersonatorUserId ?? null,
      now,
      now,
    ],
  );
  const rows = written!.entries ?? [];
  const ids = new Map(
    rows.map((row) => [`${row.account_id}:${row.counterparty_id ?? ''}`, row.id]),
  );
  return {
    rows,
    moved: written!.moved ?? [],
    idOf: (payerId, counterpartyId) => ids.get(`${payerId}:${counterpartyId ?? ''}`) ?? null,
  };
}

/**
 * What makes two calls of a batch the same record: a new call's id (the poster's own: a
 * replay), a re-rated one's stored record — two posters' unrated records may share an id.
 */
function recordKey(call: TCallToRate): string {
  return call.recordId ?? call.cdrId;
}

/** Each call's outcome, in the batch's order, and the counts. */
function outcomes(
  batchId: string,
  rated: TRatedCall[],
  ids: string[],
  viewerDepth: number,
): TUsagePosted {
  const records: TUsageOutcome[] = [];
  const unratedByReason: Partial<Record<TUnratedReason, number>> = {};
  const firstOf = new Map<string, TEarlierRecord>();
  let index = 0;
  for (const call of rated) {
    if (call.first) {
      const id = ids[index++]!;
      firstOf.set(recordKey(call.call), {
        id,
        reason: call.reason,
        reason_depth: call.reasonDepth,
      });
    }
  }
  const readable = (record: TEarlierRecord) =>
    reasonFor(record.reason, record.reason_depth, viewerDepth);
  let ratedCount = 0;
  let unrated = 0;
  let duplicates = 0;
  for (const call of rated) {
    const cdr = call.call.cdrId;
    if (call.first) {
      const first = firstOf.get(recordKey(call.call))!;
      const reason = readable(first);
      if (reason === null) ratedCount++;
      else {
        unrated++;
        unratedByReason[reason] = (unratedByReason[reason] ?? 0) + 1;
      }
      records.push({
        id: cdr,
        outcome: reason === null ? 'rated' : 'unrated',
        reason,
        recordId: first.id,
      });
      continue;
    }
    duplicates++;
    const earlier = call.stored ?? firstOf.get(recordKey(call.call))!;
    records.push({
      id: cdr,
      outcome: 'duplicate',
      reason: readable(earlier),
      recordId: earlier.id,
    });
  }
  return { batchId, rated: ratedCount, unrated, unratedByReason, duplicates, records };
}

/** The blocking set (`account-dto.ts`) the locked accounts make. */
function blockingSet(accounts: readonly TAccountFields[]): Set<string> {
  const set = new Set<string>();
  for (const account of accounts) {
    if (account.status === 'suspended') set.add(account.id);
    if (account.creditBlocked) set.add(creditKey(account.id));
  }
  return set;
}

/** A customer's calls stored without moving its balance: its DTO as it is, and how many. */
function callsChange(
  account: TAccountFields,
  blocking: Set<string>,
  byId: Map<string, TAccountFields>,
  tally: { calls: number; unrated: number },
): TChange {
  const parentName = byId.get(ancestorIds(account.path).at(-2)!)?.name ?? '';
  const dto = toAccountDto(account, blocking, parentName);
  const scope = parentPathOf(account);
  return {
    resource: 'customers',
    entityId: account.id,
    op: 'updated',
    version: account.version,
    before: { ...dto },
    after: { ...dto },
    scopeBefore: scope,
    scopeAfter: scope,
    summary: { reason: 'calls', ...tally },
  };
}

/** An account's change for the batch's usage: its DTO before and after, the entry named. */
function balanceChange(
  before: TAccountFields,
  after: TAccountFields,
  blockingBefore: Set<string>,
  blockingAfter: Set<string>,
  byId: Map<string, TAccountFields>,
  entries: TEntryRow[],
): TChange {
  const amount = entries.reduce((sum, entry) => sum.plus(entry.amount), new Money(0)).toFixed(6);
  const calls = entries.reduce((sum, entry) => sum + entry.calls, 0);
  if (after.kind === 'carrier') {
    // A carrier's own provider cost: its account row moved, which the audit records; no
    // list shows a carrier, so nothing goes live.
    return {
      resource: 'carriers',
      entityId: after.id,
      op: 'updated',
      version: after.version,
      before: { id: before.id, name: before.name, balance: atScale(before.balance) },
      after: { id: after.id, name: after.name, balance: atScale(after.balance) },
      scopeBefore: null,
      scopeAfter: null,
    };
  }
  const parentName = byId.get(ancestorIds(after.path).at(-2)!)?.name ?? '';
  const cascade: { refetch?: TLiveResource[] } =
    after.kind === 'reseller' && after.creditBlocked !== before.creditBlocked
      ? { refetch: ['resellers', 'customers'] }
      : {};
  const scope = parentPathOf(after);
  return {
    resource: after.kind === 'customer' ? 'customers' : 'resellers',
    entityId: after.id,
    op: 'updated',
    version: after.version,
    before: { ...toAccountDto(before, blockingBefore, parentName) },
    after: { ...toAccountDto(after, blockingAfter, parentName) },
    scopeBefore: scope,
    scopeAfter: scope,
    summary: {
      reason: 'ledger',
      kind: 'usage',
      amount: atScale(amount),
      currency: after.currency,
      entryId: entries[0]?.id ?? '',
      calls,
      ...cascade,
    },
  };
}
