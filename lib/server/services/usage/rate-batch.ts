import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { TActor } from '@/lib/server/authz/actor';
import { belowSql, carrierIdOf } from '@/lib/server/authz/scope';
import { directQuery, pgArray } from '@/lib/server/db/direct-query';
import { conflict } from '@/lib/server/errors/domain-error';
import type { TChange } from '@/lib/server/live/change-log';
import { accountFromRow } from '@/lib/server/services/accounts/account-scope';
import {
  atScale,
  creditKey,
  toAccountDto,
  type TAccountFields,
} from '@/lib/server/services/accounts/account-dto';
import { ancestorIds } from '@/lib/server/services/accounts/account-tree';
import { noticeCreditCrossing } from '@/lib/server/services/ledger/credit-notice';
import { billedSecondsSql, roundByCardSql } from '@/lib/server/services/rates/pricing-sql';
import { Money } from '@/lib/shared/pricing/money';
import type { TLiveResource } from '@/lib/shared/live/change';
import type { TUnratedReason, TUsageOutcome, TUsagePosted } from '@/lib/shared/schemas/usage';

/** One call to rate: a new record (from a request) or an unrated one again (`recordId`). */
export interface TCallToRate {
  cdrId: string;
  accountId: string;
  /** Digits only (the schema normalized it). */
  number: string;
  startedAt: string;
  seconds: number;
  recordId?: string;
}

/** A balance kept as numeric(18,6): 12 integer digits (as the ledger's `postEntry`). */
const BALANCE_LIMIT = new Money('1e12');

/**
 * Rates a batch of calls inside the caller's `mutate` (one transaction), set-based: a
 * handful of statements whatever the batch's size, none per call.
 *
 * 1. Stage the batch in a temporary table and resolve each call's customer in the
 *    poster's scope, its card, and repeats within the batch.
 * 2. Lock every account on those customers' paths, in id order (one batch at a time per
 *    account; their balances are read under the lock), then find the calls stored before
 *    (duplicates: under the locks, so a concurrent replay of the same calls waits for
 *    the first and finds them).
 * 3. Mark what cannot be rated before pricing: an unknown account, one suspended or
 *    blocked for credit on the path, no card.
 * 4. Price every level of every call's chain in one statement: the customer's card and
 *    each parent up to the top, each with its revision live at the call's start
 *    (`rate_revision`, rows from `rate_history`), the longest prefix in effect then, the
 *    row's billing structure and the card's rounding — the lookup's rule (`lookup-rates`)
 *    and the pricing core's arithmetic (`pricing-sql`), for all calls at once.
 * 5. Credit: calls in start order; a call is charged while every level's payer still
 *    has credit before it (balance + limit − what earlier calls of the batch charged it
 *    > 0), payers deepest first, each depth one windowed statement; later calls are
 *    unrated `credit_blocked`.
 * 6. Write in one statement: the records (or the re-rated ones' outcome), their charges,
 *    one `usage` ledger entry per payer (and counterparty) and each payer's balance
 *    moved once, flipping `credit_blocked` where its credit ran out.
 * 7. One change per account moved (reason `ledger`, kind `usage`), and the credit notice
 *    of any crossing, as a payment raises it.
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
  const now = new Date();
  // Set-based statements over a few thousand rows: JIT compiling them costs more than it
  // saves, and the hash joins of the pricing step want room.
  await directQuery(tx, `set local jit = off`);
  await directQuery(tx, `set local work_mem = '64MB'`);

  // 1. Stage and resolve.
  const customers = belowSql('a.path', actor.account.path);
  await directQuery(
    tx,
    `create temp table usage_in on commit drop as
     select s.seq, s.cdr_id, s.account_id, s.number, s.started_at, s.seconds, s.record_id,
            min(s.seq) over (partition by s.cdr_id) as first_seq,
            a.path, ca.card_id,
            null::text as reason, null::bigint as existing_id, null::text as existing_reason
       from unnest(?::int[], ?::text[], ?::uuid[], ?::text[], ?::timestamptz[], ?::int[], ?::bigint[])
            as s(seq, cdr_id, account_id, number, started_at, seconds, record_id)
       left join account a on a.id = s.account_id and a.kind = 'customer' and ${customers.sql}
       left join lateral (
         select card_id from card_assignment where account_id = a.id
          order by exclusive desc, created_at limit 1) ca on true`,
    [
      pgArray(calls.map((_, index) => index)),
      pgArray(calls.map((call) => call.cdrId)),
      pgArray(calls.map((call) => call.accountId)),
      pgArray(calls.map((call) => call.number)),
      pgArray(calls.map((call) => call.startedAt)),
      pgArray(calls.map((call) => call.seconds)),
      pgArray(calls.map((call) => call.recordId ?? null)),
      ...customers.params,
    ],
  );
  await directQuery(tx, `analyze usage_in`);

  // 2. Lock the accounts on the paths, then find the calls stored before.
  const locked = (
    await directQuery(
      tx,
      `select a.* from account a
        where a.id in (select distinct unnest(string_to_array(rtrim(path, '/'), '/'))::uuid
                         from usage_in where path is not null)
        order by a.id
        for no key update`,
    )
  ).map(accountFromRow);
  const byId = new Map(locked.map((account) => [account.id, account]));
  if (mode === 'new') {
    await directQuery(
      tx,
      `update usage_in i set existing_id = r.id, existing_reason = r.reason
         from usage_record r where r.carrier_id = ? and r.cdr_id = i.cdr_id`,
      [carrierId],
    );
  }

  // 3. What cannot be rated, before any pricing.
  const suspendedIds = locked.filter((a) => a.status === 'suspended').map((a) => a.id);
  const blockedIds = locked.filter((a) => a.creditBlocked).map((a) => a.id);
  await directQuery(
    tx,
    `update usage_in i set reason = x.reason from (
       select seq, case
         when path is null then 'unknown_account'
         when string_to_array(rtrim(path, '/'), '/')::uuid[] && ?::uuid[] then 'account_suspended'
         when string_to_array(rtrim(path, '/'), '/')::uuid[] && ?::uuid[] then 'credit_blocked'
         when card_id is null then 'no_card' end as reason
         from usage_in where existing_id is null and first_seq = seq) x
      where x.seq = i.seq and x.reason is not null`,
    [pgArray(suspendedIds), pgArray(blockedIds)],
  );

  // 4. Price every level of every call still in the running.
  await directQuery(tx, RATE_STATEMENT);
  await directQuery(tx, `analyze usage_work`);
  await directQuery(
    tx,
    `update usage_in i set reason = w.reason from (
       select seq, case when bool_or(prefix is null) then 'no_route'
                        when bool_or(blocked) then 'blocked_prefix'
                        when bool_or(currency <> payer_currency) then 'currency_mismatch' end as reason
         from usage_work group by seq) w
      where w.seq = i.seq and w.reason is not null`,
  );

  // 5. Credit used up within the batch: payers with a limit, deepest first.
  const limited = locked.filter((a) => a.creditLimit !== null && !a.creditBlocked);
  const depths = [...new Set(limited.map((a) => a.depth))].sort((a, b) => b - a);
  for (const depth of depths) {
    const payers = limited.filter((a) => a.depth === depth);
    await directQuery(
      tx,
      `update usage_in i set reason = 'credit_blocked' from (
         select seq from (
           select w.seq, p.available - coalesce(sum(w.amount) over (
                    partition by w.payer_id order by c.started_at, c.seq
                    rows between unbounded preceding and 1 preceding), 0) as before
             from usage_work w
             join usage_in c on c.seq = w.seq and c.reason is null
             join unnest(?::uuid[], ?::numeric[]) as p(id, available) on p.id = w.payer_id) o
          where o.before <= 0) b
        where b.seq = i.seq`,
      [
        pgArray(payers.map((a) => a.id)),
        pgArray(payers.map((a) => new Money(a.balance).plus(a.creditLimit!).toFixed(6))),
      ],
    );
  }

  // 6. Write.
  const write = writeStatement(mode, {
    carrierId,
    posterPath: actor.account.path,
    now,
    batchId,
    actor,
  });
  const [written] = await directQuery<TWritten>(tx, write.sql, write.params);
  const outcome = await outcomes(tx, carrierId, batchId, mode, written!);

  // 7. The balances moved: one change per account, notices on a crossing.
  const moved = written!.accounts ?? [];
  const blockingBefore = blockingSet(locked);
  const after = new Map(
    moved.map((row) => {
      const before = byId.get(row.id)!;
      if (new Money(row.balance).abs().gte(BALANCE_LIMIT)) {
        throw conflict('balance_out_of_range', 'A balance would leave the range it is kept in.', {
          fields: { records: `would take ${before.name}'s balance out of range` },
        });
      }
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
  const blockingAfter = blockingSet(locked.map((account) => after.get(account.id) ?? account));
  const entriesOf = new Map<string, TEntryRow[]>();
  for (const entry of written!.entries ?? []) {
    entriesOf.set(entry.account_id, [...(entriesOf.get(entry.account_id) ?? []), entry]);
  }
  for (const [id, account] of after) {
    const before = byId.get(id)!;
    const entries = entriesOf.get(id) ?? [];
    record(balanceChange(before, account, blockingBefore, blockingAfter, byId, entries));
    if (account.kind !== 'carrier') await noticeCreditCrossing(tx, record, before, account);
  }
  return outcome;
}

/**
 * Every level of every call still in the running, priced: `usage_work` (one row per call
 * and level, `prefix` null where the card has no rate for the number then).
 *
 * The chain of each held card follows the parent links to the top. Level 0 is paid by
 * the customer to its card's owner; a card above is paid by the owner of the card below
 * it to its own owner (the account holding it by assignment is that owner's child); the
 * top card, when its owner also owns the card below (a carrier's provider card under
 * its own sell card), is the owner's provider cost (no counterparty). A card between two
 * of one owner's cards charges no one (a derivation step of its own).
 */
const RATE_STATEMENT = `
  create temp table usage_work on commit drop as
  with recursive starts as (
    select distinct card_id from usage_in
     where card_id is not null and reason is null and existing_id is null and first_seq = seq),
  chain as (
    select s.card_id as start_id, c.id as card_id, c.parent_id, c.owner_id, 0 as depth
      from starts s join card c on c.id = s.card_id
    union all
    select chain.start_id, c.id, c.parent_id, c.owner_id, chain.depth + 1
      from chain join card c on c.id = chain.parent_id),
  links as (
    select chain.*, lag(owner_id) over (partition by start_id order by depth) as below_owner
      from chain),
  levels as (
    select start_id, card_id,
           (row_number() over (partition by start_id order by depth) - 1)::smallint as level,
           case when depth = 0 then null when owner_id <> below_owner then below_owner
                else owner_id end as payer_id,
           case when depth = 0 or owner_id <> below_owner then owner_id end as counterparty_id
      from links
     where depth = 0 or owner_id <> below_owner or parent_id is null),
  todo as (
    select i.seq, i.number, i.started_at, i.seconds, l.level, l.card_id,
           coalesce(l.payer_id, i.account_id) as payer_id, l.counterparty_id
      from usage_in i join levels l on l.start_id = i.card_id
     where i.reason is null and i.existing_id is null and i.first_seq = i.seq),
  revisions as (
    -- The revision live at an instant is the latest (by number, not cancelled) whose date
    -- has come, as the lookup's: revision n from its date until any later one's.
    select card_id, number as rev, live_at,
           min(live_at) over (partition by card_id order by number desc
                              rows between unbounded preceding and 1 preceding) as until
      from rate_revision
     where cancelled_at is null and card_id in (select distinct card_id from levels)),
  at_rev as (
    select t.seq, t.level, t.card_id, t.number, t.started_at, r.rev
      from todo t join revisions r on r.card_id = t.card_id
       and r.live_at <= t.started_at and (r.until is null or t.started_at < r.until)),
  candidates as (
    select a.seq, a.level, a.card_id, a.rev, a.started_at, left(a.number, n)::varchar(20) as prefix, n
      from at_rev a cross join generate_series(1, least(length(a.number), 20)) n),
  matched as (
    select distinct on (c.seq, c.level) c.seq, c.level, h.prefix, h.destination, h.rate,
           h.connection_fee, h.initial_increment, h.increment, h.grace_seconds, h.blocked
      from candidates c
      join rate_history h on h.card_id = c.card_id and h.prefix = c.prefix
       and h.from_rev <= c.rev and (h.to_rev is null or h.to_rev > c.rev)
       and (h.effective_from is null or h.effective_from <= c.started_at)
     order by c.seq, c.level, c.n desc, h.effective_from desc nulls last),
  billed as (
    select t.seq, t.level, t.card_id, t.payer_id, t.counterparty_id, m.prefix, m.destination,
           m.blocked, m.rate, m.connection_fee, c.decimals, c.rounding, c.currency,
           (case when m.prefix is null or m.blocked then null
                 when t.seconds = 0 or t.seconds <= m.grace_seconds then 0
                 else ${billedSecondsSql('t.seconds', 'm.initial_increment', 'm.increment')} end)::int
             as billed_seconds
      from todo t
      join card c on c.id = t.card_id
      left join matched m on m.seq = t.seq and m.level = t.level)
  select b.seq, b.level, b.card_id, b.payer_id, p.depth::smallint as payer_depth,
         p.currency as payer_currency, b.counterparty_id, b.prefix, b.destination,
         coalesce(b.blocked, false) as blocked, b.billed_seconds, b.currency,
         (case when b.billed_seconds is null then null
               when b.billed_seconds = 0 then 0
               else ${roundByCardSql('b.connection_fee + b.rate * b.billed_seconds / 60', 'b.decimals', 'b.rounding')}
          end)::numeric(18,6) as amount
    from billed b join account p on p.id = b.payer_id`;

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
  currency: string;
  calls: number;
}

interface TWritten {
  records: { id: string; cdr: string; status: 'rated' | 'unrated' }[] | null;
  calls:
    | {
        seq: number;
        cdr: string;
        reason: TUnratedReason | null;
        first: number;
        existing: string | null;
        existing_reason: TUnratedReason | null;
      }[]
    | null;
  accounts: TAccountMoved[] | null;
  entries: TEntryRow[] | null;
}

/**
 * Step 6 in one statement: the records (new ones inserted in id order, so concurrent
 * batches with the same ids queue on the unique key in the same order; one another
 * batch stored meanwhile is skipped and reported as a duplicate) or the re-rated ones'
 * outcome, the charges of the rated ones, one ledger entry per payer and counterparty
 * (`balance_after` in turn when a payer has two), and each payer's balance moved once.
 */
function writeStatement(
  mode: 'new' | 'rerate',
  at: { carrierId: string; posterPath: string; now: Date; batchId: string; actor: TActor },
): { sql: string; params: unknown[] } {
  const { carrierId, posterPath, now, batchId, actor } = at;
  const written =
    mode === 'new'
      ? {
          sql: `insert into usage_record (carrier_id, cdr_id, account_id, number, started_at,
                  seconds, status, reason, path, received_at, rated_at, batch_id,
                  poster_account_id, poster_user_id)
                select ?::uuid, i.cdr_id, i.account_id, i.number, i.started_at, i.seconds,
                       case when i.reason is null then 'rated' else 'unrated' end, i.reason,
                       coalesce(i.path, ?), ?::timestamptz,
                       case when i.reason is null then ?::timestamptz end,
                       ?::uuid, ?::uuid, ?::uuid
                  from usage_in i where i.existing_id is null and i.first_seq = i.seq
                 order by i.cdr_id
                on conflict (carrier_id, cdr_id) do nothing
                returning id, cdr_id, status`,
          params: [carrierId, posterPath, now, now, batchId, actor.account.id, actor.userId],
        }
      : {
          sql: `update usage_record r
                   set status = case when i.reason is null then 'rated' else 'unrated' end,
                       reason = i.reason, path = coalesce(i.path, r.path),
                       rated_at = case when i.reason is null then ?::timestamptz end,
                       batch_id = ?::uuid, attempts = r.attempts + 1
                  from usage_in i
                 where r.id = i.record_id
                returning r.id, r.cdr_id, r.status`,
          params: [now, batchId],
        };
  return {
    sql: `
  with rec as (${written.sql}),
  charged as (
    select rec.id as record_id, w.*
      from rec join usage_in i on i.cdr_id = rec.cdr_id and i.first_seq = i.seq
      join usage_work w on w.seq = i.seq
     where rec.status = 'rated'),
  sums as (
    select payer_id, counterparty_id, sum(amount) as total, count(*)::int as calls
      from charged group by payer_id, counterparty_id),
  entries as (
    select s.*, a.currency,
           a.balance - sum(s.total) over (partition by s.payer_id
             order by s.counterparty_id nulls last) as balance_after
      from sums s join account a on a.id = s.payer_id
     where s.total <> 0),
  le as (
    insert into ledger_entry (account_id, counterparty_id, kind, amount, currency, balance_after,
      reference, idempotency_key, actor_user_id, actor_account_id, impersonator_user_id, created_at)
    select e.payer_id, e.counterparty_id, 'usage', -e.total, e.currency, e.balance_after,
           ? || e.calls || case when e.calls = 1 then ' call' else ' calls' end,
           ? || coalesce(e.counterparty_id::text, 'own'), ?::uuid, ?::uuid, ?::uuid, ?::timestamptz
      from entries e
    returning id, account_id, counterparty_id, amount, currency),
  ch as (
    insert into usage_charge (record_id, level, payer_id, payer_depth, counterparty_id, card_id,
      prefix, destination, billed_seconds, amount, currency, ledger_entry_id)
    select c.record_id, c.level, c.payer_id, c.payer_depth, c.counterparty_id, c.card_id,
           c.prefix, c.destination, c.billed_seconds, c.amount, c.currency, le.id
      from charged c
      left join le on le.account_id = c.payer_id
       and le.counterparty_id is not distinct from c.counterparty_id
    returning 1),
  moved as (
    update account a set balance = a.balance - t.total,
           credit_blocked = (a.credit_limit is not null and a.balance - t.total + a.credit_limit <= 0),
           updated_at = ?::timestamptz, version = a.version + 1
      from (select payer_id, sum(total) as total from sums group by payer_id
             having sum(total) <> 0) t
     where a.id = t.payer_id
    returning a.id, a.balance::text as balance, a.credit_blocked, a.version, a.updated_at)
  select (select json_agg(json_build_object('id', id::text, 'cdr', cdr_id, 'status', status)) from rec) as records,
         (select json_agg(json_build_object('seq', seq, 'cdr', cdr_id, 'reason', reason,
                   'first', first_seq, 'existing', existing_id::text,
                   'existing_reason', existing_reason) order by seq)
            from usage_in) as calls,
         (select json_agg(moved) from moved) as accounts,
         (select json_agg(json_build_object('id', le.id::text, 'account_id', le.account_id,
                   'counterparty_id', le.counterparty_id, 'amount', le.amount::text,
                   'currency', le.currency, 'calls', s.calls))
            from le join sums s on s.payer_id = le.account_id
             and s.counterparty_id is not distinct from le.counterparty_id) as entries,
         (select count(*) from ch) as charges`,
    params: [
      ...written.params,
      `usage batch ${batchId}: `,
      `usage:${batchId}:`,
      actor.userId,
      actor.account.id,
      actor.impersonatorUserId ?? null,
      now,
      now,
    ],
  };
}

/** Each call's outcome, in the batch's order, and the counts. */
async function outcomes(
  tx: EntityManager,
  carrierId: string,
  batchId: string,
  mode: 'new' | 'rerate',
  written: TWritten,
): Promise<TUsagePosted> {
  const stored = new Map((written.records ?? []).map((row) => [row.cdr, row]));
  const calls = written.calls ?? [];
  // A call another batch stored between our look and our insert (the same id sent for
  // another customer at the same moment): a duplicate after all.
  const raced = calls.filter(
    (call) => call.first === call.seq && !call.existing && !stored.has(call.cdr),
  );
  const otherBatch = new Map(
    (mode === 'new' && raced.length
      ? await directQuery<{ id: string; cdr_id: string; reason: TUnratedReason | null }>(
          tx,
          `select id::text as id, cdr_id, reason from usage_record
            where carrier_id = ? and cdr_id = any(?::text[]) and batch_id <> ?`,
          [carrierId, pgArray(raced.map((call) => call.cdr)), batchId],
        )
      : []
    ).map((row) => [row.cdr_id, row]),
  );

  const records: TUsageOutcome[] = [];
  const unratedByReason: Partial<Record<TUnratedReason, number>> = {};
  let rated = 0;
  let unrated = 0;
  let duplicates = 0;
  for (const call of calls) {
    const mine = call.first === call.seq && !call.existing ? stored.get(call.cdr) : undefined;
    if (mine) {
      if (mine.status === 'rated') rated++;
      else {
        unrated++;
        unratedByReason[call.reason!] = (unratedByReason[call.reason!] ?? 0) + 1;
      }
      records.push({ id: call.cdr, outcome: mine.status, reason: call.reason, recordId: mine.id });
      continue;
    }
    duplicates++;
    const first = calls[call.first]!;
    const earlier = first.existing
      ? { id: first.existing, reason: first.existing_reason }
      : (otherBatch.get(call.cdr) ?? { id: stored.get(call.cdr)!.id, reason: first.reason });
    records.push({
      id: call.cdr,
      outcome: 'duplicate',
      reason: earlier.reason,
      recordId: earlier.id,
    });
  }
  return { batchId, rated, unrated, unratedByReason, duplicates, records };
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
  const scope = after.path.slice(0, after.path.length - after.id.length - 1);
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
