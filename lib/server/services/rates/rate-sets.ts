import type { EntityManager } from '@mikro-orm/postgresql';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Knex } from '@mikro-orm/knex';
import { Account, Card, type TCard } from '@/lib/server/entities';
import type { TActor } from '@/lib/server/authz/actor';
import { accountCardScopeSql, cardScopeSql } from '@/lib/server/authz/card-relation';
import { carrierIdOf } from '@/lib/server/authz/scope';
import { isPostgresServer } from '@/lib/server/db/direct-query';
import { atCommitOrder, atCommitOrderOnce, type TChange } from '@/lib/server/live/change-log';
import { COMPACTIONS, marginSlack, type TCompaction } from '@/lib/shared/pricing/markup';
import type { TCardRounding } from '@/lib/shared/pricing/money';
import { assertDerivedInRange } from './derived-range';
import { CSV_REFUSALS_MAX, finerThan } from './rates-csv';
import { firstBilledSql, mixedLosingSql, roundedOverSql, roundSql, unitsSql } from './pricing-sql';
import type { TRateInput, TRateKey } from '@/lib/shared/schemas/rates';
import type { TCardChangeSummary } from '@/lib/shared/live/change-summary';
import { cardChange, holdersOf, toCardOwnerDto } from '@/lib/server/services/cards/card-store';
import { noticeRevisionScheduled } from './revision-notice';
import {
  liveNow,
  prepareRevSet,
  recordRevision,
  rateKeysJson,
  rateKeysSql,
  sameKey,
  sameVisibleTerms,
  settleDates,
  withdrawRevision,
  type TWrittenRevisions,
  type TRecordedRevision,
  type TRevisionPlan,
} from './revisions';
import type { TRevisionSource } from '@/lib/shared/schemas/revisions';
import { DomainError } from '@/lib/server/errors/domain-error';

/**
 * Rate sets are written in bulk, set-based (DESIGN §1, issue "100k rows in seconds"):
 * one statement for a card's whole set, never a row loop. Every writer ends with
 * `rateSetChanged`, which moves the card's version (the change-log guard covers the
 * card), recomputes every card derived from it, and records one `cards.rates_changed`
 * entry per card.
 */

/** Why a card's rates changed, as its `rates_changed` summary says. */
export type TRatesCause = 'put' | 'import' | 'parent' | 'markup' | 'rollback' | 'revision';

/**
 * A rate's terms a CSV may leave out, by column, as `rev_set` names them: a merged file
 * without one keeps the replaced row's (`writeRateRows`' `keep`).
 */
export const KEPT_TERMS = {
  connectionFee: 'connection_fee',
  initialIncrement: 'initial_increment',
  increment: 'increment',
  graceSeconds: 'grace_seconds',
  blocked: 'blocked',
  minimumSeconds: 'minimum_seconds',
} as const;
export type TKeptTerm = keyof typeof KEPT_TERMS;

/**
 * The input rows as the card's next revision (revisions.ts): staged in one statement,
 * any size, then the whole new set built in `rev_set` — the rows as given (`replace`), or
 * merged over the latest revision's, same prefix and effective time replaced (`merge`;
 * `remove` names rows of it left out; `keep`, terms the input does not give — a CSV
 * without their columns — taken from the row it replaces, so a supplier's
 * `prefix,destination,rate` sheet merged in neither unblocks a blocked route nor resets
 * its increments, fee, grace or minimum). Live now (what `rate` reads) unless
 * `plan.liveAt` dates it later.
 */
export async function writeRateRows(
  tx: EntityManager,
  cardId: string,
  rows: TRateInput[],
  mode: 'replace' | 'merge',
  plan: TRevisionPlan,
  remove: readonly TRateKey[] = [],
  keep: readonly TKeptTerm[] = [],
): Promise<TRecordedRevision> {
  await prepareRevSet(tx, cardId);
  if (rows.length) {
    const trx = transactionOf(tx);
    const connection = (await trx.client.acquireConnection()) as pg.ClientBase;
    if (await copyCapable(connection)) {
      await stageByCopy(connection, cardId, rows);
    } else {
      // A second write in the same transaction (the demo seed) stages afresh.
      await trx.raw('drop table if exists pg_temp.rate_import');
      await stageByJson(trx, rows);
      await trx.raw(
        `insert into rev_set (card_id, prefix, effective_from, rate, connection_fee, initial_increment,
                              increment, grace_seconds, blocked, overridden, losing, destination,
                              minimum_seconds)
         select ?, p, e, r, f, i, n, g, b, false, false, d, m from rate_import`,
        [cardId],
      );
    }
  }
  if (mode === 'merge' && keep.length && rows.length) {
    // From the prefix's row in force at the staged row's date in the latest set: the same
    // key first, else the latest dated before it, else the undated one — a supplier's
    // "new prices from the 1st" sheet keeps a route's block and terms from that date.
    // Written as `rate_history_open_by_date` indexes it (the date, undated as -infinity,
    // latest first): one probe per staged row. As `effective_from desc nulls last`, each
    // row scanned every open row of its prefix (8,000 dates of one prefix: 11 s).
    const columns = keep.map((term) => KEPT_TERMS[term]);
    await tx.execute(
      `update rev_set s
          set (${columns.join(', ')}) = (
            select ${columns.map((column) => `h.${column}`).join(', ')} from rate_history h
             where h.card_id = s.card_id and h.to_rev is null and h.prefix = s.prefix
               and coalesce(h.effective_from, '-infinity'::timestamptz)
                   <= coalesce(s.effective_from, '-infinity'::timestamptz)
             order by coalesce(h.effective_from, '-infinity'::timestamptz) desc limit 1)
        where s.card_id = ?
          and exists (select 1 from rate_history h
                       where h.card_id = s.card_id and h.to_rev is null and h.prefix = s.prefix
                         and coalesce(h.effective_from, '-infinity'::timestamptz)
                             <= coalesce(s.effective_from, '-infinity'::timestamptz))`,
      [cardId],
    );
  }
  if (mode === 'merge') {
    // Hashed, never row by row: as a nested loop, the anti-join scanned `rev_set` once per
    // kept row while this insert grew it — a one-row edit of a 20k-row card took 2 s, and
    // the time grew with the square of the card (revisions.ts sets the same for its joins).
    const [planner] = await tx.execute<{ was: string }[]>(
      `select current_setting('enable_nestloop') as was, set_config('enable_nestloop', 'off', true)`,
    );
    await tx.execute(
      `insert into rev_set (card_id, prefix, effective_from, rate, connection_fee, initial_increment,
                            increment, grace_seconds, blocked, overridden, losing, destination,
                            minimum_seconds)
       select h.card_id, h.prefix, h.effective_from, h.rate, h.connection_fee, h.initial_increment,
              h.increment, h.grace_seconds, h.blocked, false, false, h.destination, h.minimum_seconds
         from rate_history h
        where h.card_id = ? and h.to_rev is null
          and not exists (select 1 from rev_set s where s.card_id = h.card_id and ${sameKey('s', 'h')})
          and not exists (select 1 from ${rateKeysSql('k')} where ${sameKey('k', 'h')})`,
      [cardId, rateKeysJson(remove)],
    );
    await tx.execute(`select set_config('enable_nestloop', ?, true)`, [planner!.was]);
  }
  // Written rows only (a rollback's or a derive's sets are copies and computations).
  if (plan.source === 'put' || plan.source === 'import') {
    await refuseUndatedBehindDated(tx, cardId, plan.liveAt);
  }
  return recordRevision(tx, cardId, plan);
}

/**
 * New or changed undated rows for a prefix whose set (as it will be when the revision
 * goes live) has a dated row in force then. A dated row prices calls from its date over
 * an undated one, so such a row would be stored, counted as added or changed, and never
 * charged: the writer is told to date it. An import names their lines (all of them, up
 * to a file's limit of refusals); the field's message names the first five prefixes.
 */
export class UndatedBehindDated extends DomainError {
  constructor(readonly rows: { prefix: string; effective_from: Date | string }[]) {
    const reason = `has no date, while ${rows
      .slice(0, 5)
      .map(
        (row) =>
          `prefix ${row.prefix} has a row dated ${new Date(row.effective_from).toISOString()}`,
      )
      .join(
        ', ',
      )} in force, which prices calls over an undated one: give it an effectiveFrom from when it should apply`;
    super('invalid_input', 'invalid_input', `Invalid input: effectiveFrom ${reason}.`, {
      fields: { effectiveFrom: reason },
    });
  }
}

/**
 * Refuses what `UndatedBehindDated` says, over the staged set whole (a merge's kept rows
 * are in it by now, a replacement's are the file's), at the moment the revision goes
 * live (`liveAt`, or now).
 */
async function refuseUndatedBehindDated(
  tx: EntityManager,
  cardId: string,
  liveAt: Date | null,
): Promise<void> {
  // Most sets have no dated row in force: one scan says so, and nothing else runs.
  const [dated] = await tx.execute<{ any: boolean }[]>(
    `select exists (select 1 from rev_set where card_id = ? and effective_from is not null
                      and effective_from <= coalesce(?::timestamptz, now())) as any`,
    [cardId, liveAt],
  );
  if (!dated?.any) return;
  // One pass over the set, the dated row in force per prefix by a window: a join of the
  // staged set to itself, unanalysed (a temporary table), ran as a nested loop — minutes
  // for a 20k-row import, every write of the card after it as long.
  const hidden = await tx.execute<{ prefix: string; effective_from: Date | string }[]>(
    `select s.prefix, s.dated_from as effective_from
       from (select r.*, max(r.effective_from) filter (
                          where r.effective_from <= coalesce(?::timestamptz, now()))
                        over (partition by r.prefix) as dated_from
               from rev_set r where r.card_id = ?) s
      where s.effective_from is null and s.dated_from is not null
        -- the undated row as it stands, sent again (an exported set merged back), hides nothing new
        and not exists (select 1 from rate_history u
                         where u.card_id = s.card_id and u.to_rev is null and ${sameKey('u', 's')}
                           and u.rate = s.rate and ${sameVisibleTerms('u', 's')})
      order by s.prefix
      limit ?`,
    [liveAt, cardId, CSV_REFUSALS_MAX],
  );
  if (hidden.length) throw new UndatedBehindDated(hidden);
}

/**
 * Validated rows into the card's staged set (`rev_set`) by COPY FROM STDIN (text
 * format): no statement text, no JSON to build and take apart, no second table to copy
 * them from — the floor of what PostgreSQL can take in.
 */
async function stageByCopy(
  connection: pg.ClientBase,
  cardId: string,
  rows: TRateInput[],
): Promise<void> {
  const sink = connection.query(
    copyFrom(`copy rev_set (card_id, prefix, destination, rate, connection_fee, initial_increment,
                increment, grace_seconds, effective_from, blocked, minimum_seconds, overridden,
                losing) from stdin`),
  );
  await pipeline(Readable.from(copyText(cardId, rows)), sink);
}

/** The rows as COPY's text format, a few thousand lines a chunk. */
function* copyText(cardId: string, rows: TRateInput[]): Generator<string> {
  let chunk = '';
  for (let index = 0; index < rows.length; index++) {
    const row = rows[index]!;
    chunk += `${cardId}\t${copyCell(row.prefix)}\t${copyCell(row.destination)}\t${row.rate}\t${row.connectionFee}\t${row.initialIncrement}\t${row.increment}\t${row.graceSeconds}\t${row.effectiveFrom ?? '\\N'}\t${row.blocked ? 't' : 'f'}\t${row.minimumSeconds ?? 0}\tf\tf\n`;
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
 * parameter unpacked by json_to_recordset into `rate_import`, typed columns in one pass.
 */
async function stageByJson(trx: Knex.Transaction, rows: TRateInput[]): Promise<void> {
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
      m: row.minimumSeconds ?? 0,
    })),
  );
  // Bound, not inlined: `em.execute` would escape a 10 MB JSON into the SQL text.
  await trx.raw(
    `create temp table rate_import on commit drop as
       select * from json_to_recordset(?::json)
         as x(p text, d text, r numeric, f numeric, i int, n int, g int, e timestamptz, b boolean,
              m int)`,
    [packed],
  );
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
 * whatever the size): the parent's rows priced by an exact-prefix override, else the
 * longest markup rule covering the prefix, else the card-wide markup (percent, then fixed
 * per minute), rounded the child's way (deriveTerms in lib/shared/pricing/markup.ts); the
 * fee rounded the child's way, marked up card-wide with `markupFee`; increments and grace
 * the card's own where it sets them, else the parent's; effective time and blocking the
 * parent's (every parent prefix — the longer ones included — has its row, so no shorter
 * sell prefix hides a dearer buy one). `losing` flags a row when any
 * call length sells below its buy price (the exact check, lib/shared/pricing/markup.ts).
 * The result is the card's next revision (revisions.ts): live now, or at the parent's
 * revision's date when the parent's new rows are read from `rev_set` (`from`), so the
 * margin check has run on a scheduled revision before it goes live.
 * Returns the flagged rows that were not flagged in the revision before (`cards.margin_alert`).
 */
export async function rederive(
  tx: EntityManager,
  cardId: string,
  options: {
    from?: 'rate' | 'rev_set';
    plan?: TRevisionPlan;
    fresh?: readonly string[];
    /** Each parent's revision live at this instant (`now`: the transaction's), from history. */
    at?: Date | 'now';
  } = {},
): Promise<{ newlyLosing: number; newlyLosingPrefixes: string[]; revision: TRecordedRevision }> {
  const child = await tx.findOneOrFail(Card, { id: cardId }, { populate: ['parent'] });
  const parents = await parentsOf(tx, child);
  const multi = parents.length > 1;
  if (options.at) await stageParentsAt(tx, parents, options.at);
  const previous = await tx.execute<{ keys: string | null }[]>(
    `select json_agg(prefix || '@' || coalesce(effective_from::text, ''))::text as keys
       from rate_history where card_id = ? and to_rev is null and losing`,
    [cardId],
  );
  if (multi) {
    await compactParents(tx, parents, child.compaction ?? 'first', {
      ...options,
      at: Boolean(options.at),
    });
  }
  await prepareRevSet(tx, cardId);
  // Each lateral step is computed once per row (`offset 0` keeps the planner from
  // inlining it into every use: a rounding expression repeats its argument).
  // `losing` is marginCheck (lib/shared/pricing/markup.ts) in SQL: a sell rate below the
  // buy rate loses outright; otherwise the call lengths of one period decide (one
  // structure: `sameLosingSql`; the card's own against the parent's: `mixedLosingSql`).
  // With several parents, against the row that priced it, at that parent's precision.
  const own = ownStructureSql(child);
  const mixed =
    own.initial !== null || own.increment !== null || own.grace !== null || own.minimum !== null;
  const losingAgainst = (parent: TCard) => {
    const slack = marginSlack(parent, child).toFixed();
    // Half-even rounding repeats over two minutes, not one (marginCheck).
    const periods = parent.rounding === 'half_even' || child.rounding === 'half_even' ? 2 : 1;
    return mixed
      ? mixedLosingSql(slack, periods, parent, child)
      : sameLosingSql(slack, periods, parent, child);
  };
  const losing = multi
    ? `case p.card_id ${parents
        .map((parent) => `when '${uuidLiteral(parent.id)}'::uuid then ${losingAgainst(parent)}`)
        .join(' ')} end`
    : losingAgainst(parents[0]!);
  // What the markup applies to: the pricing row's rate and fee, or for `average` the
  // parents' totals over their count (`base_n`): marked up as totals, divided by the
  // count only in the rounding, exactly (`roundedOverSql`) — never a mean cut short.
  const averaged = multi && (child.compaction ?? 'first') === 'average';
  const baseRate = multi ? 'p.base_rate' : 'p.rate';
  const baseFee = multi ? 'p.base_fee' : 'p.connection_fee';
  /** A per-row amount (a fixed markup, an override) as a total over the count. */
  const total = (amount: string) => (averaged ? `${amount} * p.base_n` : amount);
  const markupPercent = child.markupPercent ?? '0';
  const markupFixed = child.markupFixed ?? '0';
  // Rules by prefix: a small table once, not the JSON unpacked again for every row.
  const rules = Boolean(child.rules?.length);
  if (rules) {
    await tx.execute('drop table if exists pg_temp.derive_rules');
    await tx.execute(
      `create temp table derive_rules on commit drop as
         select * from json_to_recordset(?::json) as r(prefix text, mode text, value numeric)`,
      [JSON.stringify(child.rules)],
    );
    // Found by each row's leading prefixes through an index: a scan of every rule for
    // every row cost the parent's rows × the rules (10,000 rules over 12,000 rows: 11 s,
    // paid again by every edit of the parent).
    await tx.execute('create index on pg_temp.derive_rules (prefix)');
    await tx.execute('analyze pg_temp.derive_rules');
  }
  await tx.execute(
    `insert into rev_set (card_id, prefix, destination, rate, connection_fee, initial_increment,
                       increment, grace_seconds, effective_from, blocked, overridden, losing, priced_by,
                       minimum_seconds)
     select ?, p.prefix, p.destination, s.rate, s.fee, t.initial_increment, t.increment,
            t.grace_seconds, p.effective_from, p.blocked, o.rate is not null,
            not p.blocked and (s.rate < p.rate or ${losing}), p.card_id, t.minimum_seconds
       from ${multi ? 'pg_temp.derive_parent' : options.at ? 'pg_temp.parent_at' : (options.from ?? 'rate')} p
       left join json_to_recordset(?::json) as o(prefix text, rate numeric) on o.prefix = p.prefix
      ${
        rules
          ? `left join lateral (
               select r.mode, r.value from pg_temp.derive_rules r
                where r.prefix = any(array(select left(p.prefix, n)
                                             from generate_series(1, length(p.prefix)) n))
                order by length(r.prefix) desc limit 1) ru on true`
          : ''
      }
      cross join lateral (
        select coalesce(${total('o.rate')}, ${
          rules
            ? `case ru.mode when 'percent' then ${baseRate} * (1 + ru.value / 100)
                            when 'fixed' then ${baseRate} + ${total('ru.value')}
                            when 'absolute' then ${total('ru.value')} end, `
            : ''
        }${baseRate} * (1 + ?::numeric / 100) + ${total('?::numeric')}) as marked,
               ${child.markupFee ? `${baseFee} * (1 + ?::numeric / 100) + ${total('?::numeric')}` : baseFee} as fee
        offset 0) m
      ${
        averaged
          ? `cross join lateral (
        select ${unitsSql('m.marked', 'p.base_n', child, 'rate')},
               ${unitsSql('m.fee', 'p.base_n', child, 'fee')}
        offset 0) u
      cross join lateral (
        select ${roundedOverSql('u.rate_q', 'u.rate_r', 'p.base_n', child)} as rate,
               ${roundedOverSql('u.fee_q', 'u.fee_r', 'p.base_n', child)} as fee
        offset 0) s`
          : `cross join lateral (
        select ${roundSql('m.marked', child)} as rate, ${roundSql('m.fee', child)} as fee
        offset 0) s`
      }
      cross join lateral (
        select coalesce(${own.initial ?? 'null'}, p.initial_increment) as initial_increment,
               coalesce(${own.increment ?? 'null'}, p.increment) as increment,
               coalesce(${own.grace ?? 'null'}, p.grace_seconds) as grace_seconds,
               coalesce(${own.minimum ?? 'null'}, p.minimum_seconds) as minimum_seconds
        offset 0) t
      cross join lateral (
        ${firstBilledSql()}
        offset 0) g
      where ${multi ? 'true' : 'p.card_id = ?'}`,
    [
      cardId,
      JSON.stringify(child.overrides ?? []),
      markupPercent,
      markupFixed,
      ...(child.markupFee ? [markupPercent, markupFixed] : []),
      ...(multi ? [] : [parents[0]!.id]),
    ],
  );
  // Before the revision is recorded into numeric(18,6): a price past it is refused naming
  // the card and the prefix, not left to the database's overflow, which names neither.
  await assertDerivedInRange(tx, child);
  const fresh = await tx.execute<{ count: string; prefixes: string[] | null }[]>(
    `select count(*) as count, (array_agg(prefix order by prefix))[1:20] as prefixes
       from rev_set r
      where card_id = ? and losing
        and not exists (select 1 from json_array_elements_text(?::json) k
                         where k.value = r.prefix || '@' || coalesce(r.effective_from::text, ''))`,
    [cardId, previous[0]?.keys ?? '[]'],
  );
  const revision = await recordRevision(tx, cardId, options.plan ?? liveNow('markup'));
  return {
    newlyLosing: Number(fresh[0]?.count ?? 0),
    newlyLosingPrefixes: fresh[0]?.prefixes ?? [],
    revision,
  };
}

/** A derived card's parents in priority order (`card_parent`; the one `parent` before it). */
export async function parentsOf(tx: EntityManager, child: TCard): Promise<TCard[]> {
  const rows = await tx.execute<{ parent_id: string }[]>(
    'select parent_id from card_parent where card_id = ? order by position',
    [child.id],
  );
  if (!rows.length) return child.parent ? [child.parent as unknown as TCard] : [];
  const cards = await tx.find(Card, { id: { $in: rows.map((row) => row.parent_id) } });
  return rows.map((row) => cards.find((card) => card.id === row.parent_id)!);
}

/**
 * The parents' rows as they will stand at `at` — each parent's latest revision live by
 * then, scheduled or not (revisions go live in the order they are numbered) — into
 * `pg_temp.parent_at`, shaped like `rate`. What a derived revision at that instant is
 * computed from when another parent's revision, or one of its own, is scheduled later.
 */
async function stageParentsAt(
  tx: EntityManager,
  parents: TCard[],
  at: Date | 'now',
): Promise<void> {
  await tx.execute('drop table if exists pg_temp.parent_at');
  await tx.execute(
    `create temp table parent_at on commit drop as
       select h.card_id, h.prefix, h.destination, h.rate, h.connection_fee, h.initial_increment,
              h.increment, h.grace_seconds, h.effective_from, h.blocked, h.minimum_seconds
         from unnest(?::uuid[]) par(id)
         cross join lateral (
           select max(r.number) as number from rate_revision r
            where r.card_id = par.id and r.cancelled_at is null
              and r.live_at <= coalesce(?::timestamptz, clock_timestamp())) v
         join rate_history h
           on h.card_id = par.id and h.from_rev <= v.number
          and (h.to_rev is null or h.to_rev > v.number)`,
    [`{${parents.map((parent) => parent.id).join(',')}}`, at === 'now' ? null : at.toISOString()],
  );
  await tx.execute('analyze pg_temp.parent_at');
}

/** A card id written into SQL: only ever a validated UUID. */
function uuidLiteral(id: string): string {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) {
    throw new RangeError('card id');
  }
  return id;
}

/**
 * Several parents' rows compacted into one set, `pg_temp.derive_parent` (the twin of
 * `compact` in lib/shared/pricing/markup.ts), set-based: every prefix (and effective
 * time) any parent has gets a row — the longer prefixes of one parent expand into the
 * card as with one parent — and each parent's candidate for it is its longest prefix in
 * effect by then (an indexed probe over the leading digits). The row carries the
 * pricing parent's terms (what the margin check compares against) and, in `base_*`, what
 * the markup applies to: `base_rate / base_n` per minute and `base_fee / base_n` per call
 * (`TCompactedBase` in markup.ts) — for `average` the open rows' totals and their number,
 * divided only in the rounding (`roundedOverSql`), so the mean is exact. A parent's set is
 * its new one in `rev_set` when it was just recomputed in this transaction (`fresh`), else
 * its live set (`from: 'rate'`), else its latest revision, scheduled or not, so a derived
 * revision scheduled after another parent's keeps that parent's scheduled rows.
 */
async function compactParents(
  tx: EntityManager,
  parents: TCard[],
  compaction: TCompaction,
  options: { from?: 'rate' | 'rev_set'; fresh?: readonly string[]; at?: boolean },
): Promise<void> {
  if (!COMPACTIONS.includes(compaction)) throw new RangeError(`unknown compaction ${compaction}`);
  const columns = `card_id, prefix, destination, rate, connection_fee, initial_increment, increment,
                   grace_seconds, effective_from, blocked, minimum_seconds`;
  const ids = `{${parents.map((parent) => parent.id).join(',')}}`;
  const fresh = `{${(options.from === 'rev_set' ? (options.fresh ?? []) : []).join(',')}}`;
  // `rev_set` exists from here on (it is read below even when nothing was staged).
  await prepareRevSet(tx, '00000000-0000-0000-0000-000000000000');
  await tx.execute('drop table if exists pg_temp.derive_src');
  if (options.at) {
    // Each parent's revision live at the instant, staged by `stageParentsAt`.
    await tx.execute(
      `create temp table derive_src on commit drop as
         select par.pos, s.*
           from unnest(?::uuid[]) with ordinality par(id, pos)
           cross join lateral (
             select ${columns} from pg_temp.parent_at where card_id = par.id) s`,
      [ids],
    );
  } else {
    await tx.execute(
      `create temp table derive_src on commit drop as
       select par.pos, s.*
         from unnest(?::uuid[]) with ordinality par(id, pos)
         cross join lateral (
           select ${columns} from rev_set where card_id = par.id and par.id = any(?::uuid[])
           union all
           select ${columns} from ${
             options.from === 'rev_set' ? 'rate_history' : 'rate'
           } where card_id = par.id and not (par.id = any(?::uuid[]))${
             options.from === 'rev_set' ? ' and to_rev is null' : ''
           }) s`,
      [ids, fresh, fresh],
    );
  }
  await tx.execute('create index on pg_temp.derive_src (pos, prefix)');
  await tx.execute('analyze pg_temp.derive_src');
  // The card's rows: one per (prefix, effective time) a parent has — and, over several
  // parents, a prefix also at each time a shorter prefix of any parent changes (a dated
  // row). From then on that parent prices the longer prefix by its new row: 441 of one
  // parent over 44 of another that rises in 2030 must be priced again in 2030, or the card
  // keeps selling 441 at the old price while rating pays the new one — unless that parent
  // prices 441 by a longer row of its own by then. One parent needs no more: its own
  // longer prefix always wins over its shorter ones.
  await tx.execute('drop table if exists pg_temp.derive_key');
  await tx.execute(
    `create temp table derive_key on commit drop as
     select distinct prefix, effective_from from pg_temp.derive_src${
       parents.length > 1
         ? `
     union
     select s.prefix, d.effective_from
       from (select distinct prefix from pg_temp.derive_src) s
       cross join generate_series(1, length(s.prefix) - 1) n
       join (select distinct pos, prefix, effective_from from pg_temp.derive_src
              where effective_from is not null) d on d.prefix = left(s.prefix, n)
      -- Unless that parent prices the longer prefix by a longer row of its own by then:
      -- its date changes nothing there, and the card would only repeat a row.
      where not exists (
        select 1 from pg_temp.derive_src x
         where x.pos = d.pos
           and x.prefix = any(array(select left(s.prefix, m)
                                      from generate_series(n + 1, length(s.prefix)) m))
           and coalesce(x.effective_from, '-infinity'::timestamptz) <= d.effective_from)`
         : ''
     }`,
  );
  const order =
    compaction === 'first'
      ? 'c.pos'
      : compaction === 'lowest'
        ? 'c.rate, c.pos'
        : 'c.rate desc, c.pos';
  await tx.execute('drop table if exists pg_temp.derive_parent');
  await tx.execute(
    `create temp table derive_parent on commit drop as
     select distinct on (k.prefix, k.effective_from)
            c.card_id, k.prefix,
            first_value(c.destination) over (partition by k.prefix, k.effective_from
                                             order by c.prefix = k.prefix desc, c.pos) as destination,
            c.rate, c.connection_fee, c.initial_increment, c.increment, c.grace_seconds,
            c.minimum_seconds, k.effective_from,
            bool_and(c.blocked) over (partition by k.prefix, k.effective_from) as blocked,
            ${
              // The mean as a total and a count, never avg(): it divides at about 20
              // digits, and a third marked up onto the card's grid rounds one unit off.
              compaction === 'average'
                ? `coalesce(sum(c.rate) filter (where not c.blocked) over w, c.rate) as base_rate,
                   coalesce(sum(c.connection_fee) filter (where not c.blocked) over w, c.connection_fee) as base_fee,
                   greatest(count(*) filter (where not c.blocked) over w, 1) as base_n`
                : 'c.rate as base_rate, c.connection_fee as base_fee, 1 as base_n'
            }
       from pg_temp.derive_key k
       cross join generate_series(1, ?) par(pos)
       cross join lateral (
         select d.* from pg_temp.derive_src d
          where d.pos = par.pos
            and d.prefix = any(array(select left(k.prefix, n) from generate_series(1, length(k.prefix)) n))
            and coalesce(d.effective_from, '-infinity'::timestamptz)
                <= coalesce(k.effective_from, '-infinity'::timestamptz)
          order by length(d.prefix) desc, d.effective_from desc nulls last
          limit 1) c
     window w as (partition by k.prefix, k.effective_from)
      order by k.prefix, k.effective_from, c.blocked, ${order}`,
    [parents.length],
  );
}

/** A card's own billing structure as SQL literals (validated integers only), null: the parent's. */
function ownStructureSql(card: TCard): {
  initial: string | null;
  increment: string | null;
  grace: string | null;
  minimum: string | null;
} {
  const literal = (value: number | null | undefined) => {
    if (value === null || value === undefined) return null;
    if (!Number.isInteger(value) || value < 0) throw new RangeError('billing seconds');
    return `${value}::int`;
  };
  return {
    initial: literal(card.billingInitialIncrement),
    increment: literal(card.billingIncrement),
    grace: literal(card.billingGraceSeconds),
    minimum: literal(card.billingMinimumSeconds),
  };
}

/**
 * Both levels bill the same structure (the parent's): one period of billed lengths from
 * the first out of grace (60 / gcd(increment, 60) of them, twice that with half-even
 * rounding) decides, and of those only the ones shorter than where the sell price's lead
 * passes what rounding can take back (`slack`).
 */
function sameLosingSql(
  slack: string,
  periods: number,
  parent: TCardRounding,
  child: TCardRounding,
): string {
  // How many billed lengths can lose; none for most rows (the sell price's lead passes
  // the slack before the first), and then the subquery is never started: PostgreSQL
  // sets up a correlated subplan per row even to find its series empty, which cost most
  // of the flag's time on the bench's rows. `case` keeps that order.
  const lengths = `least(${periods} * 60 / gcd(p.increment, 60),
                  case when s.rate > p.rate
                       then ceil(greatest(0, 60 * (${slack}::numeric - (s.fee - p.connection_fee))
                                             / (s.rate - p.rate) - g.first) / p.increment)
                       else ${periods * 60} end)`;
  return `(case when ${lengths} <= 0 then false else exists (
              select 1 from generate_series(0, (${lengths})::int - 1) k
               cross join lateral (select g.first + k * p.increment as billed offset 0) b
               cross join lateral (
                 select s.fee + s.rate * b.billed / 60 as sell, p.connection_fee + p.rate * b.billed / 60 as buy
                 offset 0) x
               where ${roundSql('x.sell', child)} < ${roundSql('x.buy', parent)}) end)`;
}

/**
 * Profit assurance for a customer card built by hand (issue 16 §3): each of its rows
 * against every number it prices, set-based in one statement. A row prices the numbers
 * under its prefix that no longer row of the card takes, and the provider cards it names
 * may split those further: a provider's longer prefix under the row (447 under a sell row
 * 44) prices its numbers on its own rate, dearer or not. So the row is checked at its own
 * prefix and at each such longer provider prefix no longer sell row covers (the number
 * equal to that prefix is priced by exactly it), each against the cheapest provider row
 * there (each provider's longest prefix in effect then, blocked ones left out), by the
 * same exact check as a derived card's (`mixedLosingSql`: the two rows' own structures).
 * "Then" is every moment the row prices calls: its own time and each later one at which
 * a provider row under or over its prefix takes effect, until a later row of the card
 * takes its prefix. Checking the row's prefix alone let a dearer longer provider prefix
 * sell at a loss unflagged; checking its own time alone, a dearer buy row dated later.
 *
 * Selects the sell row as `r` and, for a row that loses somewhere, the dearest losing buy
 * row as `p` (one result per losing row); the one param is the card id. `latest`: every
 * card's latest revision, scheduled or not, instead of the live set — what the alerts
 * check, before a revision goes live.
 */
export function assuranceSql(
  providers: TCard[],
  sell: TCard,
  select: string,
  from: 'rate' | 'latest' = 'rate',
): string {
  // The open rows as an expression no index can serve: `to_rev is null` once matched an
  // index on the card and `to_rev`, and may still fit one on the card alone (history's
  // `opened`), which a planner misjudging a freshly written card (its statistics not yet
  // gathered) took over the prefix index for every key and probe, reading the whole card
  // each time. A revision is numbered from 1, so 0 is none.
  const [table, open] =
    from === 'rate' ? ['rate', ''] : ['rate_history', ' and coalesce({}.to_rev, 0) = 0'];
  const ids = `'{${providers.map((provider) => uuidLiteral(provider.id)).join(',')}}'::uuid[]`;
  // A row of `alias` in force at `at` (null: from the start).
  const inForce = (alias: string, at: string) =>
    `coalesce(${alias}.effective_from, '-infinity'::timestamptz)
                   <= coalesce(${at}, '-infinity'::timestamptz)`;
  const losingAgainst = (provider: TCard) => {
    const slack = marginSlack(provider, sell).toFixed();
    const periods = provider.rounding === 'half_even' || sell.rounding === 'half_even' ? 2 : 1;
    return mixedLosingSql(slack, periods, provider, sell);
  };
  // The prefixes over `prefix`, itself included: the rows a number under it may fall to.
  const leading = (prefix: string) =>
    `array(select left(${prefix}, n) from generate_series(1, length(${prefix})) n)`;
  // The prefixes under `prefix`, by a range the (card_id, prefix) index serves under any
  // collation: every digit string starting with P lies between P and P followed by nines.
  const under = (alias: string, prefix: string) =>
    `${alias}.prefix > ${prefix} and ${alias}.prefix <= rpad(${prefix}, 20, '9')
              and starts_with(${alias}.prefix, ${prefix})`;
  return `select ${select}
       from ${table} r
       cross join lateral (select r.rate, r.connection_fee as fee offset 0) s
       cross join lateral (
         select r.initial_increment, r.increment, r.grace_seconds, r.minimum_seconds offset 0) t
       cross join lateral (
         -- Each distinct set of buy terms once: whether a row loses depends on nothing
         -- else, and a short sell prefix over a big provider card has thousands of keys
         -- priced by a few hundred price points.
         select p.* from (
          select distinct on (b.card_id, b.rate, b.connection_fee, b.initial_increment,
                              b.increment, b.grace_seconds, b.minimum_seconds) b.*
          from (
           -- Every moment the row prices calls at: its own time, and each later time a
           -- provider row under or over its prefix takes effect while the row is still
           -- its prefix's (a dearer buy row dated next month makes it lose from then).
           select m.at, keys.key from (
             select r.effective_from as at
             union
             select k.effective_from from ${table} k
              where k.card_id = any(${ids})${open.replace('{}', 'k')}
                and k.effective_from > coalesce(r.effective_from, '-infinity'::timestamptz)
                and (k.prefix = any(${leading('r.prefix')}) or (${under('k', 'r.prefix')}))
                and not exists (
                  select 1 from ${table} o
                   where o.card_id = r.card_id${open.replace('{}', 'o')} and o.prefix = r.prefix
                     and o.effective_from > coalesce(r.effective_from, '-infinity'::timestamptz)
                     and o.effective_from <= k.effective_from)) m
           cross join lateral (
             select r.prefix as key
             union
             select k.prefix from ${table} k
              where k.card_id = any(${ids})${open.replace('{}', 'k')}
                and ${under('k', 'r.prefix')} and ${inForce('k', 'm.at')}
                and not exists (
                  select 1 from ${table} o
                   where o.card_id = r.card_id${open.replace('{}', 'o')}
                     and o.prefix = any(array(select left(k.prefix, n)
                                                from generate_series(length(r.prefix) + 1, length(k.prefix)) n))
                     and ${inForce('o', 'm.at')})) keys) keys
         cross join lateral (
           select b.* from unnest(${ids}) cmp(id)
            cross join lateral (
              select * from ${table} b
               where b.card_id = cmp.id${open.replace('{}', 'b')}
                 and b.prefix = any(${leading('keys.key')}) and ${inForce('b', 'keys.at')}
               order by length(b.prefix) desc, b.effective_from desc nulls last
               limit 1) b
            where not b.blocked
            order by b.rate, array_position(${ids}, b.card_id)
            limit 1) b
          order by b.card_id, b.rate, b.connection_fee, b.initial_increment, b.increment,
                   b.grace_seconds, b.minimum_seconds, b.prefix) p
         cross join lateral (
           ${firstBilledSql()}
           offset 0) g
          -- A sell rate below the buy rate loses on long calls: known without the
          -- enumeration of call lengths (the case keeps that order).
          where case when s.rate < p.rate then true else case p.card_id ${providers
            .map(
              (provider) =>
                `when '${uuidLiteral(provider.id)}'::uuid then ${losingAgainst(provider)}`,
            )
            .join(' ')} end end
          order by p.rate desc, p.connection_fee desc, p.prefix
          limit 1) p
      where r.card_id = ?${open.replace('{}', 'r')} and not r.blocked`;
}

/**
 * The provider cards a hand-built card's margin is assured against: its `compareWith`, in
 * that order, less each card its owner's account has no relation to (DESIGN §1: a card
 * assigned to it and unassigned since, or one an editor above named before that was
 * checked), and, with a `viewer` (a report read), less each the viewer may not see. The
 * check is stored only as ids, so it is taken at every use: the alerts and the margin
 * report compare with this list alone, and a card the owner lost stops pricing its rows
 * rather than showing its rates, fees and increments through them.
 */
export async function assuredAgainst(
  em: EntityManager,
  card: TCard,
  viewer?: TActor,
): Promise<TCard[]> {
  if (card.parent || !card.compareWith?.length) return [];
  const owner = await em.findOneOrFail(Account, { id: card.owner.id });
  const byOwner = accountCardScopeSql(owner);
  const byViewer = viewer ? cardScopeSql(viewer) : { where: 'true', params: [] };
  const visible = await em.execute<{ id: string }[]>(
    `select c.id from card c join account o on o.id = c.owner_id
      where c.id = any(?::uuid[]) and ${byOwner.where} and ${byViewer.where}`,
    [`{${card.compareWith.join(',')}}`, ...byOwner.params, ...byViewer.params],
  );
  if (!visible.length) return [];
  const found = await em.find(Card, { id: { $in: visible.map((row) => row.id) } });
  // The list's order breaks ties between equal rates (`assuranceSql`): keep it.
  return card.compareWith.flatMap((id) => found.filter((one) => one.id === id));
}

export type TRederived = Awaited<ReturnType<typeof rederive>>;

/** A derived card's revision waiting for its date, as `redoRevisions` redoes it. */
export interface TPendingRevision {
  id: string;
  number: number;
  live_at: Date;
  source: TRevisionSource;
  created_by: string | null;
  parent_revision_id: string | null;
}

/**
 * A derived card's scheduled revisions dated after an instant (or numbered after one of
 * its revisions), withdrawn newest first: a parent's revision lands before them, or one
 * before them is cancelled, and each is then computed again by `redoRevisions`.
 */
export async function withdrawLater(
  tx: EntityManager,
  cardId: string,
  bound: { after: Date | 'now' } | { afterNumber: number },
): Promise<TPendingRevision[]> {
  const later = await tx.execute<TPendingRevision[]>(
    `select id, number, live_at, source, created_by, parent_revision_id from rate_revision
      where card_id = ? and applied_at is null and cancelled_at is null
        and ${'afterNumber' in bound ? 'number > ?' : 'live_at > coalesce(?::timestamptz, clock_timestamp())'}
      order by number desc`,
    [
      cardId,
      'afterNumber' in bound
        ? bound.afterNumber
        : bound.after === 'now'
          ? null
          : bound.after.toISOString(),
    ],
  );
  for (const pending of later) await withdrawRevision(tx, cardId, pending.number);
  return later;
}

/**
 * Withdrawn derived revisions computed again, oldest first, each from every parent's
 * revision live at its own date, each told as a scheduled revision (its holders get the
 * notice again: what changes may differ). `redone` maps a withdrawn revision's id to its
 * replacement's, so a revision following one redone here follows the replacement.
 */
export async function redoRevisions(
  tx: EntityManager,
  child: TCard,
  ownerPath: string,
  withdrawn: TPendingRevision[],
  redone: Map<string, string>,
  record: (change: TChange) => void,
  notice: { ownerFollows: boolean },
): Promise<TRecordedRevision[]> {
  const recorded: TRecordedRevision[] = [];
  for (const pending of [...withdrawn].reverse()) {
    const liveAt = new Date(pending.live_at);
    const again = await rederive(tx, child.id, {
      at: liveAt,
      plan: {
        source: pending.source,
        liveAt,
        createdBy: pending.created_by,
        parentRevisionId: pending.parent_revision_id
          ? (redone.get(pending.parent_revision_id) ?? pending.parent_revision_id)
          : null,
        // Redone because a write above came first: held to the notice as that write is.
        upstream: notice.ownerFollows,
      },
    });
    redone.set(pending.id, again.revision.id);
    recorded.push(again.revision);
    await recordRatesChanged(tx, child, ownerPath, 'parent', record, again, again.revision, notice);
  }
  return recorded;
}

/**
 * Profit assurance alerts (issue 16 §3): after the rates of the `changed` cards moved (a
 * revision written, scheduled or withdrawn, a rounding) or a card's `compareWith` did,
 * every hand-built card comparing with one of them — and each of them that compares
 * itself — is checked again, by the margin report's exact check (`assuranceSql`), over
 * every card's latest revision, so a scheduled one is checked before it goes live. Rows
 * that lose and did not at the last check (`assurance_loss`) raise a `cards.margin_alert`,
 * as a derived card's newly losing rows do. The card's version stays: nothing of it
 * changed, and an edit its owner has open must not turn stale.
 */
export function assuranceChanged(
  record: (change: TChange) => void,
  /** The cards' carrier (all are one carrier's): its commit order runs the check. */
  carrierId: string,
  changed: readonly string[],
): void {
  if (!changed.length) return;
  // In the carrier's commit order (its log head held to commit): a card compared with
  // two providers written at once was checked by each write against the other's old
  // prices — neither saw the loss both made, and no alert came. In order, the later
  // check reads the earlier write committed. The check itself (seconds for a reseller's
  // cards over a big provider card, every writer of the carrier waiting meanwhile) is
  // made before the lock; under it, only confirmed to stand on what is there now.
  // Once for the whole transaction, of every card named in it: a bulk assignment of a
  // compared card ran the whole check once per account named (20 accounts: 26 s, the
  // named customers' calls waiting meanwhile).
  atCommitOrderOnce(
    record,
    carrierId,
    'assurance',
    changed,
    (ordered, cards, read: TAssuranceRead) => checkAssurance(ordered, cards, record, read),
    (tx, cards) => readAssurance(tx, cards),
  );
}

/** The hand-built cards an alert check of `changed` covers, with their owners' paths. */
async function comparedCards(
  tx: EntityManager,
  changed: readonly string[],
): Promise<{ id: string; owner_path: string }[]> {
  const ids = `{${changed.join(',')}}`;
  return tx.execute<{ id: string; owner_path: string }[]>(
    `select c.id, o.path as owner_path from card c join account o on o.id = c.owner_id
      where (c.id = any(?::uuid[])
             and (c.compare_with is not null
                  or exists (select 1 from assurance_loss a where a.card_id = c.id)))
         or exists (select 1 from jsonb_array_elements_text(c.compare_with) x(id)
                     where x.id = any(?::text[]))
      order by c.id`,
    [ids, ids],
  );
}

/**
 * Each compared card, read afresh (another transaction may have changed it since this
 * one last did), with the providers it is held to: only what its owner may still see —
 * one it lost is no longer compared, its losses forgotten, its rate changes raise nothing.
 */
async function comparedWithProviders(tx: EntityManager, changed: readonly string[]) {
  const compared = [];
  for (const row of await comparedCards(tx, changed)) {
    const card = await tx.findOneOrFail(
      Card,
      { id: row.id },
      { populate: ['owner'], refresh: true },
    );
    compared.push({ card, ownerPath: row.owner_path, providers: await assuredAgainst(tx, card) });
  }
  return compared;
}

/** A compared card's losing rows (`assuranceSql` over every card's latest revision). */
type TLosingRows = { key: string; prefix: string }[];

/**
 * What an alert check reads, per compared card: the providers it is held to, what its
 * check read them at (`assuranceStamp`), and its losing rows then.
 */
interface TAssuranceRead {
  cards: Map<string, { providers: string[]; stamp: string; losing: TLosingRows }>;
}

async function readAssurance(
  tx: EntityManager,
  changed: readonly string[],
): Promise<TAssuranceRead> {
  const cards: TAssuranceRead['cards'] = new Map();
  for (const { card, providers } of await comparedWithProviders(tx, changed)) {
    if (!providers.length) continue;
    const ids = providers.map((provider) => provider.id);
    // The stamp first: a write committing between the two reads then leaves the stamp
    // behind what the rows saw, and the check under the lock reads them again.
    const stamp = await assuranceStamp(tx, [card.id, ...ids]);
    cards.set(card.id, { providers: ids, stamp, losing: await losingRows(tx, providers, card) });
  }
  return { cards };
}

async function losingRows(tx: EntityManager, providers: TCard[], card: TCard) {
  return tx.execute<TLosingRows>(
    assuranceSql(
      providers,
      card,
      `r.prefix || '@' || coalesce(r.effective_from::text, '') as key, r.prefix`,
      'latest',
    ),
    [card.id],
  );
}

/**
 * What a check of these cards read them at: each card's version (its terms, `compare_with`)
 * and its revisions (a new one, scheduled or not, or one cancelled moves its latest set).
 * Equal, the rows the check read are the rows there now: revisions are never rewritten.
 */
async function assuranceStamp(tx: EntityManager, cardIds: readonly string[]): Promise<string> {
  const [row] = await tx.execute<{ stamp: string | null }[]>(
    `select string_agg(c.id || ':' || c.version || ':' || coalesce(c.compare_with::text, '')
                       || ':' || coalesce(v.n, ''), ',' order by c.id) as stamp
       from card c
       left join lateral (
         select max(r.number) || '/' || count(*) filter (where r.cancelled_at is not null) as n
           from rate_revision r where r.card_id = c.id) v on true
      where c.id = any(?::uuid[])`,
    [`{${cardIds.join(',')}}`],
  );
  return row?.stamp ?? '';
}

async function checkAssurance(
  tx: EntityManager,
  changed: readonly string[],
  record: (change: TChange) => void,
  read?: TAssuranceRead,
): Promise<void> {
  for (const { card, ownerPath, providers } of await comparedWithProviders(tx, changed)) {
    if (!providers.length) {
      await tx.execute('delete from assurance_loss where card_id = ?', [card.id]);
      continue;
    }
    // Read before the lock, if nothing it read has moved since; else read now.
    const ids = providers.map((provider) => provider.id);
    const before = read?.cards.get(card.id);
    const losing =
      before &&
      before.providers.join() === ids.join() &&
      before.stamp === (await assuranceStamp(tx, [card.id, ...ids]))
        ? before.losing
        : await losingRows(tx, providers, card);
    // One statement: those not losing at the last check, and the last check replaced by
    // this one.
    const [fresh] = await tx.execute<
      { count: string; prefixes: string[] | null; cured: string; losing: string }[]
    >(
      `with losing as (
         select l.key, l.prefix from json_to_recordset(?::json) as l(key text, prefix text)),
       fresh as (
         select l.key, l.prefix from losing l
          where not exists (select 1 from assurance_loss a where a.card_id = ? and a.key = l.key)),
       cured as (
         delete from assurance_loss a
          where a.card_id = ? and not exists (select 1 from losing l where l.key = a.key)
         returning 1),
       kept as (insert into assurance_loss (card_id, key) select ?, key from fresh)
       select count(*) as count, (array_agg(prefix order by prefix))[1:20] as prefixes,
              (select count(*) from cured) as cured, (select count(*) from losing) as losing
         from fresh`,
      [JSON.stringify(losing), card.id, card.id, card.id],
    );
    const count = Number(fresh?.count ?? 0);
    const cured = Number(fresh?.cured ?? 0);
    // Rows newly losing are an alert; rows that stopped losing, or losses that moved with
    // a provider card (the report's worst loss per row), are the same event with no new
    // rows, so an open margin report follows them too: the card's own rates did not
    // change, so nothing else would tell it.
    const moved = Number(fresh?.losing ?? 0) > 0 && changed.some((id) => id !== card.id);
    if (!count && !cured && !moved) continue;
    const dto = toCardOwnerDto(card);
    record(
      marginAlert(card, ownerPath, dto, await holdersOf(tx, card.id), {
        newlyLosing: count,
        newlyLosingPrefixes: fresh?.prefixes ?? [],
        cured,
      }),
    );
  }
}

/**
 * After a card's rate set changed (written, or recomputed from a new markup: pass what
 * `rederive` found, or the revision written): its counts and version move, and every
 * card derived from it, at any depth, is recomputed in the same transaction, parents
 * before children, each into a revision live when the card's is (at the same instant
 * when it is scheduled). One `cards.rates_changed` record per card, or
 * `cards.revision_scheduled` with the diff counts and date for a scheduled one; a
 * `cards.margin_alert` record for a derived card where rows started losing money.
 */
export async function rateSetChanged(
  tx: EntityManager,
  card: TCard,
  ownerPath: string,
  cause: TRatesCause,
  record: (change: TChange) => void,
  rederived?: TRederived,
  written?: TRecordedRevision,
  createdBy: string | null = null,
): Promise<void> {
  let revision = written ?? rederived?.revision;
  if (!revision) {
    // The card's rows did not change, its rounding or precision did: the same rows become
    // a revision with the new terms (nothing is written to history), so calls before it
    // keep the price they were billed, and its children derive from it.
    await prepareRevSet(tx, card.id);
    await tx.execute(
      `insert into rev_set (card_id, prefix, effective_from, rate, connection_fee, initial_increment,
                            increment, grace_seconds, blocked, overridden, losing, destination,
                            priced_by, minimum_seconds)
       select card_id, prefix, effective_from, rate, connection_fee, initial_increment,
              increment, grace_seconds, blocked, overridden, losing, destination, priced_by,
              minimum_seconds
         from rate where card_id = ?`,
      [card.id],
    );
    revision = await recordRevision(tx, card.id, liveNow('markup', createdBy));
  }
  const scheduled = revision && !revision.live ? revision : undefined;
  /** This write's revisions, dated or checked in its carrier's commit order (`settleDates`). */
  const settled: TWrittenRevisions = { own: revision, derived: [] };
  await recordRatesChanged(tx, card, ownerPath, cause, record, rederived, revision);
  // Followers at any depth through every parent link (a card may follow several
  // parents, so it may be reached twice: it is recomputed once, after all of them).
  const followers = () =>
    tx.execute<{ id: string; parent_ids: string[]; owner_path: string }[]>(
      `with recursive tree as (
         select card_id as id, 1 as depth from card_parent where parent_id = ?
         union all
         select cp.card_id, tree.depth + 1 from card_parent cp join tree on cp.parent_id = tree.id),
       deepest as (select id, max(depth) as depth from tree group by id)
       select d.id, o.path as owner_path,
              array(select cp.parent_id::text from card_parent cp
                     where cp.card_id = d.id order by cp.position) as parent_ids
         from deepest d join card c on c.id = d.id join account o on o.id = c.owner_id
        order by d.depth, d.id`,
      [card.id],
    );
  // Parents before children, like every writer: a concurrent edit of a derived card
  // waits here instead of deadlocking halfway through the recompute. `for no key update`,
  // as every card writer takes it (`findVisibleCard`): that edit updates its own row twice,
  // and the second update re-checks the key of its parent (`for key share`), which a
  // `for update` held here on the parent would block — each waiting for the other.
  const lockInOrder = async (ids: string[]) => {
    const list = `{${ids.join(',')}}`;
    if (ids.length) {
      await tx.execute(
        `select id from card where id = any(?::uuid[]) order by array_position(?::uuid[], id) for no key update`,
        [list, list],
      );
    }
  };
  let descendants = await followers();
  await lockInOrder(descendants.map((row) => row.id));
  if (descendants.length) {
    // Read again under the locks: a card deleted, or given other parents, while this
    // waited for it is recomputed as it is now (a deleted one not at all), not as it was
    // read — a follower taken into the tree meanwhile is held too.
    const held = new Set(descendants.map((row) => row.id));
    descendants = await followers();
    await lockInOrder(descendants.filter((row) => !held.has(row.id)).map((row) => row.id));
  }
  const revisionOf = new Map<string, string | null>([[card.id, revision?.id ?? null]]);
  // Derived revisions withdrawn and computed again here: the new one's id by the old's.
  const redone = new Map<string, string>();
  for (const row of descendants) {
    const child = await tx.findOneOrFail(Card, { id: row.id }, { populate: ['owner'] });
    await followParentTerms(tx, child);
    // The parent revision it follows: the first of its parents recomputed here.
    const followed = row.parent_ids.find((id) => revisionOf.has(id));
    // Another account's sell card follows the date: its owner is told (`notice` below),
    // and its own notice rule does not hold the write above it back (`upstream`).
    const upstream = child.owner.id !== card.owner.id;
    const plan: TRevisionPlan = {
      source: 'parent',
      liveAt: scheduled ? scheduled.liveAt : null,
      createdBy,
      parentRevisionId: followed ? (revisionOf.get(followed) ?? null) : null,
      upstream,
    };
    // Its revisions scheduled after this one (another parent's came first): they go
    // live after it, so they are withdrawn, and computed again after it.
    const later = await withdrawLater(tx, child.id, {
      after: scheduled ? scheduled.liveAt : 'now',
    });
    // Several parents, or revisions to redo: each parent's set as it stands at the date
    // (another parent may have a revision scheduled after it). One parent and nothing
    // later: its set just computed, as it always was.
    const childRederived =
      row.parent_ids.length > 1 || later.length
        ? await rederive(tx, child.id, { at: scheduled ? scheduled.liveAt : 'now', plan })
        : await rederive(tx, child.id, { from: 'rev_set', fresh: [...revisionOf.keys()], plan });
    revisionOf.set(child.id, childRederived.revision.id);
    settled.derived.push(childRederived.revision);
    // The side that scheduled the parent is not told of its own cards.
    const notice = { ownerFollows: upstream };
    await recordRatesChanged(
      tx,
      child,
      row.owner_path,
      'parent',
      record,
      childRederived,
      childRederived.revision,
      notice,
    );
    settled.derived.push(
      ...(await redoRevisions(tx, child, row.owner_path, later, redone, record, notice)),
    );
  }
  assuranceChanged(record, carrierIdOf(ownerPath), [card.id, ...descendants.map((row) => row.id)]);
  atCommitOrder(record, carrierIdOf(ownerPath), (tx) => settleDates(tx, settled));
}

/**
 * A derived card following its parent's precision or rounding (`decimalsFromParent`,
 * `roundingFromParent`: its derive or last edit gave none) takes them as they are now,
 * before it is recomputed — so a parent moved to 6 decimals carries the cards following
 * it along, instead of leaving them rounding their buy price away at 4. A card whose own
 * sell prices (overrides) are finer than the precision it would follow down keeps its
 * precision as its own instead: its owner's prices, often another account's, never veto
 * the parent's change, nor are they rounded behind its back.
 */
async function followParentTerms(tx: EntityManager, child: TCard): Promise<void> {
  if (!child.parent || !(child.decimalsFromParent || child.roundingFromParent)) return;
  const parent = await tx.findOneOrFail(Card, { id: child.parent.id });
  let decimals = child.decimalsFromParent ? parent.decimals : child.decimals;
  const rounding = child.roundingFromParent ? parent.rounding : child.rounding;
  const finer = (child.overrides ?? []).some((row) =>
    finerThan({ rate: row.rate, connectionFee: '0' }, decimals),
  );
  if (finer) {
    decimals = child.decimals;
    child.decimalsFromParent = false;
  }
  if (decimals === child.decimals && rounding === child.rounding && !finer) return;
  child.decimals = decimals;
  child.rounding = rounding;
  // On the row before its revision is recorded (each keeps the precision it was priced with).
  await tx.flush();
}

async function recordRatesChanged(
  tx: EntityManager,
  card: TCard,
  ownerPath: string,
  cause: TRatesCause,
  record: (change: TChange) => void,
  rederived: TRederived | undefined,
  /** The revision this wrote: live now (its counts told), or scheduled (told as such). */
  revision: TRecordedRevision | undefined,
  notice: { ownerFollows: boolean } = { ownerFollows: false },
): Promise<void> {
  const scheduled = revision && !revision.live ? revision : undefined;
  const before = toCardOwnerDto(card);
  if (scheduled) {
    // The live set is untouched until the date; the version moves for the log.
    card.updatedAt = new Date();
    await tx.flush();
  } else {
    await refreshCounts(tx, card);
  }
  const after = toCardOwnerDto(card);
  const holders = await holdersOf(tx, card.id);
  record(
    cardChange(
      card,
      ownerPath,
      'updated',
      before,
      after,
      holders,
      scheduled
        ? revisionScheduledSummary(cause, scheduled)
        : {
            event: 'rates_changed',
            cause,
            rows: card.rateCount,
            losing: card.losingRates,
            // DESIGN §2: a bulk change's summary says the rows added, changed, removed.
            ...(revision ? { counts: revision.counts } : {}),
          },
      revision?.holderCounts,
    ),
  );
  if (rederived && rederived.newlyLosing > 0)
    record(marginAlert(card, ownerPath, after, holders, rederived));
  if (scheduled) await noticeRevisionScheduled(tx, record, card, scheduled, holders, notice);
}

/** A scheduled revision as its change-log entry tells it: what changes, and when. */
export function revisionScheduledSummary(
  cause: TRatesCause,
  revision: TRecordedRevision,
): TCardChangeSummary {
  return {
    event: 'revision_scheduled',
    cause,
    number: revision.number,
    liveAt: revision.liveAt.toISOString(),
    rows: revision.rows,
    losing: revision.losing,
    counts: revision.counts,
  };
}

/**
 * `cards.margin_alert`: rows of a derived card started losing money, or of a hand-built
 * one against the providers it is compared with (owner's view only).
 */
export function marginAlert(
  card: TCard,
  ownerPath: string,
  dto: ReturnType<typeof toCardOwnerDto>,
  holders: string[],
  rederived: Pick<TRederived, 'newlyLosing' | 'newlyLosingPrefixes'> & { cured?: number },
): TChange {
  return cardChange(card, ownerPath, 'updated', dto, dto, holders, {
    event: 'margin_alert',
    count: rederived.newlyLosing,
    prefixes: rederived.newlyLosingPrefixes,
    ...(rederived.cured ? { cured: rederived.cured } : {}),
  });
}

/**
 * Counts kept on the card, those of its live revision (counted when it was recorded);
 * touching `updatedAt` moves its version even when they match.
 */
export async function refreshCounts(tx: EntityManager, card: TCard): Promise<void> {
  const rows = await tx.execute<{ rows: number; losing: number }[]>(
    `select r.rows, r.losing from card c
       join rate_revision r on r.card_id = c.id and r.number = c.live_revision
      where c.id = ?`,
    [card.id],
  );
  card.rateCount = Number(rows[0]?.rows ?? 0);
  card.losingRates = Number(rows[0]?.losing ?? 0);
  card.updatedAt = new Date();
  await tx.flush();
}

/** A scheduled revision went live: the card's counts and version move, panels are told. */
export async function recordRevisionApplied(
  tx: EntityManager,
  card: TCard,
  ownerPath: string,
  record: (change: TChange) => void,
): Promise<void> {
  await recordRatesChanged(tx, card, ownerPath, 'revision', record, undefined, undefined);
}
