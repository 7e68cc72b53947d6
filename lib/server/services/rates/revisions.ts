import type { EntityManager } from '@mikro-orm/postgresql';
import type { TCard } from '@/lib/server/entities';
import type { TCardRounding, TRoundingMode } from '@/lib/shared/pricing/money';
import { databaseClock } from '@/lib/server/db/clock';
import { conflict, DomainError, invalidInput } from '@/lib/server/errors/domain-error';
import { CSV_REFUSALS_MAX } from './rates-csv';
import type { TRevisionCounts, TRevisionSource } from '@/lib/shared/schemas/revisions';
import type { TRateKey } from '@/lib/shared/schemas/rates';
import { marginSlack } from '@/lib/shared/pricing/markup';
import { firstBilledSql, mixedLosingSql } from './pricing-sql';

/**
 * Rate-card revisions (issue 16 §2, Migration20261205100000). Every rate set a card gets
 * — written, imported, rolled back, recomputed from its parent — is first built whole in
 * the transaction's `rev_set` staging table, then `recordRevision` makes it the card's
 * next revision: counted against the one before it, stored as intervals in
 * `rate_history` (only new and changed rows are inserted, removed and changed ones are
 * closed), and, when it goes live now, named the card's live revision: `rate`, the live
 * set every reader uses, is a view of that revision's rows (Migration20261220100000). A
 * revision dated later waits in `rate_history` until the revision timer applies it
 * (apply-revisions.ts).
 */

/** When and why a new set becomes a revision. */
export interface TRevisionPlan {
  source: TRevisionSource;
  /** null: live now, in this transaction. */
  liveAt: Date | null;
  createdBy: string | null;
  /** A rollback: the revision copied. */
  basedOn?: number | null;
  /** A derived card's revision: the parent's revision it was computed from. */
  parentRevisionId?: string | null;
  /**
   * A derived card carried along by a write to a card of another account above it: the
   * card's own notice does not bind it. A notice is its owner's promise about its own
   * writes (its rates, markup, precision, its own parent cards); another account's prices
   * going up reach it at that account's date, and what protects the owner then is the
   * notice of the card it buys from. Otherwise any account below — a customer with an
   * unassigned card derived for itself — could hold the carrier's price rises off for a
   * year.
   */
  upstream?: boolean;
}

export interface TRecordedRevision {
  id: string;
  number: number;
  liveAt: Date;
  /** Live (the card's live revision) from this transaction on. */
  live: boolean;
  rows: number;
  losing: number;
  counts: TRevisionCounts;
  /** The same as a holder of the card reads them (`holderCounts`). */
  holderCounts: TRevisionCounts;
}

/**
 * A revision's counts as a holder of the card reads them: a row whose rate and every
 * term it sees stayed the same (only the owner's `losing`, `overridden` or `priced_by`
 * moved; `hidden` of them) is unchanged to it.
 */
export function holderCounts(counts: TRevisionCounts, hidden: number): TRevisionCounts {
  return { ...counts, changed: counts.changed - hidden, unchanged: counts.unchanged + hidden };
}

/** The live-now plan of a writer that schedules nothing (seed, markup, derive). */
export function liveNow(source: TRevisionSource, createdBy: string | null = null): TRevisionPlan {
  return { source, liveAt: null, createdBy };
}

/** Staging for whole sets, one row set per card, dropped at commit. */
export async function prepareRevSet(tx: EntityManager, cardId: string): Promise<void> {
  await tx.execute(
    `create temp table if not exists rev_set (card_id uuid, prefix text, effective_from timestamptz,
       rate numeric, connection_fee numeric, initial_increment int, increment int,
       grace_seconds int, blocked boolean, overridden boolean, losing boolean, destination text,
       priced_by uuid, minimum_seconds int not null default 0)
     on commit drop`,
  );
  await tx.execute('delete from rev_set where card_id = ?', [cardId]);
}

/** The columns a set is made of, in the order `rev_set` and `rate_history` share. */
const SET_COLUMNS = `prefix, effective_from, rate, connection_fee, initial_increment, increment,
  grace_seconds, blocked, overridden, losing, destination, priced_by, minimum_seconds`;

/** The same key: a prefix once per effective time. */
export function sameKey(a: string, b: string): string {
  return `${a}.prefix = ${b}.prefix
    and coalesce(${a}.effective_from, '-infinity'::timestamptz) = coalesce(${b}.effective_from, '-infinity'::timestamptz)`;
}

/**
 * Rows named by key (`rateKeysJson`, one `?`) as a relation: `alias.i` (the key's index in
 * the request), `alias.prefix`, `alias.effective_from` — to test with `sameKey`.
 */
export function rateKeysSql(alias: string): string {
  return `json_to_recordset(?::json) as ${alias}(i int, prefix text, effective_from timestamptz)`;
}

export function rateKeysJson(keys: readonly TRateKey[]): string {
  return JSON.stringify(
    keys.map((key, i) => ({ i, prefix: key.prefix, effective_from: key.effectiveFrom ?? null })),
  );
}

/** Every term but the rate equal. */
function sameTerms(a: string, b: string): string {
  return `${sameVisibleTerms(a, b)}
    and (${a}.overridden, ${a}.losing) = (${b}.overridden, ${b}.losing)
    and ${a}.priced_by is not distinct from ${b}.priced_by`;
}

/** Every term a holder of the card reads, the rate aside, equal. */
export function sameVisibleTerms(a: string, b: string): string {
  return `(${a}.destination, ${a}.connection_fee, ${a}.initial_increment, ${a}.increment,
    ${a}.grace_seconds, ${a}.blocked, ${a}.minimum_seconds)
    = (${b}.destination, ${b}.connection_fee, ${b}.initial_increment, ${b}.increment,
    ${b}.grace_seconds, ${b}.blocked, ${b}.minimum_seconds)`;
}

/** A row identical to another: same key, rate and terms. */
function sameRow(a: string, b: string): string {
  return `${sameKey(a, b)} and ${a}.rate = ${b}.rate and ${sameTerms(a, b)}`;
}

/**
 * A staged row (`staged`) billing some call higher than an open one (`open`) of the same
 * card, at its precision and rounding — exactly, not term by term: increments price out of
 * order (60/60 → 30/60 bills a 31 s call 90 s, 60/60 → 45/45 a 50 s one), which a test of
 * each term alone let through with no notice. A higher rate bills long enough calls
 * higher; otherwise the margin check's enumeration of call lengths decides
 * (`mixedLosingSql`), the open row as the sell side and the staged one as the buy: the
 * old price "loses" to the new one where the new one is higher.
 */
function dearerSql(staged: string, open: string, card: TCardRounding): string {
  const periods = card.rounding === 'half_even' ? 2 : 1;
  const slack = marginSlack(card, card).toFixed();
  // `case` keeps the order, so the enumeration runs only where the terms alone do not
  // decide: a rate and a fee no higher on the same structure bill no call higher (every
  // exact price at most the old one, and rounding keeps that) — every unchanged row of a
  // 100k-row set among them.
  return `(case when ${staged}.rate > ${open}.rate then true
                when ${staged}.connection_fee <= ${open}.connection_fee
                 and (${staged}.initial_increment, ${staged}.increment, ${staged}.grace_seconds,
                      ${staged}.minimum_seconds)
                   = (${open}.initial_increment, ${open}.increment, ${open}.grace_seconds,
                      ${open}.minimum_seconds) then false
                else exists (
            select 1
              from (select ${open}.rate, ${open}.connection_fee as fee offset 0) s
             cross join (select ${open}.initial_increment, ${open}.increment,
                                ${open}.grace_seconds, ${open}.minimum_seconds offset 0) t
             cross join (select ${staged}.rate, ${staged}.connection_fee, ${staged}.initial_increment,
                                ${staged}.increment, ${staged}.grace_seconds,
                                ${staged}.minimum_seconds offset 0) p
             cross join lateral (${firstBilledSql()} offset 0) g
             where ${mixedLosingSql(slack, periods, card, card)}) end)`;
}

/** A card's notice of increases, as its holders are told it, with its precision and rounding. */
type TNotice = { hours: number; name: string; bound_until: Date | null } & TCardRounding;

/**
 * The hours of notice card `alias` gives now: its own, or the one it had before it was
 * lowered while that still binds (`setNotice`), by the transaction's clock. The one
 * reading of it: revisions, a swap (create-assignment.ts) and a delete (delete-card.ts).
 */
export function noticeHoursSql(alias: string): string {
  return `greatest(coalesce(${alias}.min_notice_hours, 0),
                   case when ${alias}.notice_floor_until > now() then ${alias}.notice_floor_hours
                        else 0 end)`;
}

/**
 * A card's notice (`noticeHoursSql`); its precision and rounding: a raise is a call billed
 * higher (`dearerSql`).
 */
async function noticeOf(tx: EntityManager, cardId: string): Promise<TNotice | undefined> {
  const [card] = await tx.execute<TNotice[]>(
    `select ${noticeHoursSql('c')} as hours, c.name, c.decimals, c.rounding,
            case when ${noticeHoursSql('c')} > coalesce(c.min_notice_hours, 0)
                 then c.notice_floor_until end as bound_until
       from card c where c.id = ?`,
    [cardId],
  );
  return card;
}

function noticeText(card: TNotice): string {
  return `${card.name} gives ${card.hours} hours' notice of increases${
    card.bound_until
      ? ` (its notice was lowered: the old one binds until ${new Date(card.bound_until).toISOString()})`
      : ''
  }`;
}

/**
 * A card's rate sets as they will be in force from `now`: its live revision, then each
 * scheduled one (not cancelled) from its date until the next's.
 */
async function spansOf(
  tx: EntityManager,
  cardId: string,
  now: Date,
): Promise<{ number: number; from: Date; until: Date | null }[]> {
  const rows = await tx.execute<{ number: number; at: Date }[]>(
    `select r.number, greatest(r.live_at, ?::timestamptz) as at
       from rate_revision r join card c on c.id = r.card_id
      where r.card_id = ? and r.cancelled_at is null
        and (r.number = c.live_revision or (r.applied_at is null and r.number > c.live_revision))
      order by r.number`,
    [now, cardId],
  );
  return rows.map((row, index) => ({
    number: row.number,
    from: new Date(row.at),
    until: rows[index + 1] ? new Date(rows[index + 1]!.at) : null,
  }));
}

/**
 * A customer's card replaced by another (`toCardId`) is held to the notice of the card it
 * bought from (`from`: held now, or until `endedAt` — taken away and another given within
 * its notice), as a revision of that card would be: each set of the new card compared with
 * each of the old card's over the spans they share, and with what its holders were told
 * a notice ago, by the same rule (`firstRaise`), at each card's precision and rounding. Else a reseller whose card
 * promises its customers 48 hours' notice could raise their prices at once by deriving a
 * dearer card and assigning it — the bypass the notice's floor (`setNotice`) closes for a
 * lowered notice. 409 `notice_too_short` naming the rows and the first moment. The new
 * card must also give at least that notice itself: the promise goes with the account —
 * else a card of the same prices and no notice, swapped in, could be raised at once.
 */
export async function assertReplacementGivesNotice(
  tx: EntityManager,
  from: { cardId: string; endedAt: Date | null },
  toCardId: string,
  accountName: string,
): Promise<void> {
  const card = await noticeOf(tx, from.cardId);
  if (!card || card.hours <= 0) return;
  const now = await databaseClock(tx, 'transaction');
  if (from.endedAt && from.endedAt.getTime() <= now.getTime() - card.hours * 3_600_000) return;
  const promised = await noticeOf(tx, toCardId);
  if ((promised?.hours ?? 0) < card.hours) {
    throw conflict(
      'notice_too_short',
      `${noticeText(card)} to ${accountName}; ${promised?.name ?? 'the new card'} gives ${promised?.hours ?? 0}: give it at least ${card.hours} hours' notice first.`,
      { cardId: from.cardId, minNoticeHours: card.hours, raised: 0 },
    );
  }
  const [to] = await tx.execute<({ name: string; live_revision: number | null } & TCardRounding)[]>(
    `select name, decimals, rounding, live_revision from card where id = ?`,
    [toCardId],
  );
  // Each card's sets as they will be in force: its live revision from now, then each
  // scheduled one from its date until the next. Every set of the new card is compared
  // whole, over each span it shares with a set of the old card (a raise the old card
  // schedules, matched by the new card now, is that raise brought forward; a raise the new
  // card schedules lands on K at its date) — never only the latest of either.
  const old = await spansOf(tx, from.cardId, now);
  const next = await spansOf(tx, toCardId, now);
  const known = await knownBefore(tx, from.cardId, card.hours);
  const carried = known === null ? null : await carriedSince(tx, from.cardId, known);
  // Each side is billed at its own card's precision: compared at both when they differ —
  // and a new card that rounds some call higher than the old one (`canPriceHigher`) raises
  // every row it prices, from now, as a revision's rounding does (`termsRaise`).
  const terms: TCardRounding[] =
    to!.decimals === card.decimals && to!.rounding === card.rounding ? [card] : [card, to!];
  let raised: { at: Date; rows: number } | null = null;
  if (canPriceHigher(card, to!) && next[0]) {
    const [priced] = await tx.execute<{ rows: string }[]>(
      `select count(*) as rows from rate_history h
        where h.card_id = ? and ${rowsAt('h')} and not h.blocked`,
      [toCardId, next[0].number, next[0].number],
    );
    if (Number(priced?.rows ?? 0) > 0) raised = { at: now, rows: Number(priced!.rows) };
  }
  for (const set of next) {
    // The new card's set, staged as the old card's next set would be.
    await prepareRevSet(tx, from.cardId);
    await tx.execute(
      `insert into rev_set (card_id, ${SET_COLUMNS})
       select ?, ${SET_COLUMNS} from rate_history h where h.card_id = ? and ${rowsAt('h')}`,
      [from.cardId, toCardId, set.number, set.number],
    );
    for (const rounding of terms) {
      for (const than of old) {
        const start = Math.max(set.from.getTime(), than.from.getTime());
        const end = Math.min(set.until?.getTime() ?? Infinity, than.until?.getTime() ?? Infinity);
        if (start >= end) continue;
        const compared = await firstRaise(
          tx,
          from.cardId,
          rounding,
          new Date(start),
          than.number,
          false,
          null,
          end === Infinity ? null : new Date(end),
        );
        raised = earlier(raised, compared);
      }
      // Each set of the new card against what K was told a notice ago, over its span: the
      // rows it brings (a raise given with notice since stands) — a route K's card took
      // away, brought back dearer by the new card's next revision, is a raise too.
      if (known !== null) {
        raised = earlier(
          raised,
          await firstRaise(tx, from.cardId, rounding, set.from, known, true, carried, set.until),
        );
      }
    }
  }
  await tx.execute('delete from rev_set where card_id = ?', [from.cardId]);
  const notice = raised ? (raised.at.getTime() - now.getTime()) / 3_600_000 : Infinity;
  if (notice < card.hours) {
    throw conflict(
      'notice_too_short',
      `${noticeText(card)} to ${accountName}; ${to!.name} prices calls higher on ${raised!.rows} rows, the first from ${raised!.at.toISOString()}: raise ${card.name}'s prices with that notice instead.`,
      { cardId: from.cardId, minNoticeHours: card.hours, raised: raised!.rows },
    );
  }
}

/**
 * Cancelling a card's scheduled revision (its latest) is held to the card's notice as
 * writing the set it leaves would be: that set compared, from the revision's date on,
 * with the one the holders were told of when it was scheduled. A cut they were told of
 * ("prices down at T"), taken back within the notice, prices their calls from T higher
 * than announced — as withdrawing the same cut written as a dated row is refused.
 */
export async function assertCancelGivesNotice(
  tx: EntityManager,
  cardId: string,
  revision: { number: number; live_at: Date | string },
): Promise<void> {
  const card = await noticeOf(tx, cardId);
  if (!card || card.hours <= 0) return;
  const [before] = await tx.execute<{ number: number | null }[]>(
    `select max(number) as number from rate_revision
      where card_id = ? and number < ? and cancelled_at is null`,
    [cardId, revision.number],
  );
  // Its first revision: cancelled, the card prices nothing — no raise.
  if (before?.number == null) return;
  await loadRevisionSet(tx, cardId, before.number);
  // Against the revision itself (a derived card's may not be its latest), every row.
  const raised = await firstRaise(
    tx,
    cardId,
    card,
    new Date(revision.live_at),
    revision.number,
    false,
  );
  await tx.execute('delete from rev_set where card_id = ?', [cardId]);
  const now = await databaseClock(tx, 'transaction');
  if (raised && raised.at.getTime() - now.getTime() < card.hours * 3_600_000) {
    throw conflict(
      'notice_too_short',
      `${noticeText(card)}; cancelling revision ${revision.number} prices ${raised.rows} rows higher than its holders were told, from ${raised.at.toISOString()}. Schedule the prices you want instead, with that notice.`,
      { cardId, minNoticeHours: card.hours, raised: raised.rows },
    );
  }
}

/**
 * What a card's notice rule (`min_notice_hours`) is about: the moments from the
 * revision's date on when a number's call is priced higher by the staged set than by the
 * card's open set it follows — some call of it billed higher, whichever terms moved
 * (`dearerSql`) — and the first of them. `rows`: the
 * staged rows that price higher somewhere. Null: nothing goes up. Set-based (hash joins
 * on the prefix), asked only of a card with a notice rule.
 *
 * Prices only change at the revision's date and at a dated row's time in either set, so
 * those moments are compared, each set's row in force then (its latest row dated by
 * then, an undated one before any). A prefix both sets price from the same time is its
 * own longest match in both whenever it is in force: compared with itself (an undated
 * row replacing one dated in the past with that row). Any other prefix — new, removed,
 * or priced from another time — may move its numbers to another row: the number equal
 * to it falls to each set's longest prefix over it then, and those two rows are compared
 * (a dearer 441481 added under 44, a cheaper 4420 removed over 44). A blocked row prices
 * nothing: a number blocked or unpriced on either side is no raise (a new route, or one
 * withdrawn; blocking a row and opening it again dearer is a raise on what the holders
 * were told a notice ago, `knownBefore`).
 */
/** The columns of a row that price a call (`dearerSql` reads them), of alias `a`. */
const TERMS = (a: string) =>
  `${a}.rate, ${a}.connection_fee, ${a}.initial_increment, ${a}.increment, ${a}.grace_seconds,
   ${a}.minimum_seconds`;

async function firstRaise(
  tx: EntityManager,
  cardId: string,
  card: TCardRounding,
  liveAt: Date,
  against: number | null = null,
  /**
   * Against `against`, only what this write brings (below); false: every staged row
   * (a card swapped in is compared whole with each of the old card's sets).
   */
  onlyBrought = against !== null,
  /** A revision carried in from above since `against` (`carriedSince`). */
  excusedBy: number | null = null,
  /** Moments from this on are not compared (the staged set is in force until then). */
  until: Date | null = null,
): Promise<{ at: Date; rows: number } | null> {
  const since = `coalesce(effective_from, '-infinity'::timestamptz)`;
  // The open set, or revision `against`'s rows.
  const [than, thanParams] =
    against === null ? ['to_rev is null', []] : [rowsAt('rate_history'), [against, against]];
  // Against an older revision, only the staged rows this write brings (not priced the
  // same in the open set): a row kept as it is was held to the notice when first written,
  // and a raise it brought with due notice must not refuse every later write until it
  // takes effect.
  const fresh = !onlyBrought
    ? 'true'
    : `not exists (select 1 from rate_history h
                      where h.card_id = s.card_id and h.to_rev is null and ${sameKey('h', 's')}
                        and (h.rate, h.connection_fee, h.initial_increment, h.increment,
                             h.grace_seconds, h.minimum_seconds, h.blocked)
                          = (s.rate, s.connection_fee, s.initial_increment, s.increment,
                             s.grace_seconds, s.minimum_seconds, s.blocked))`;
  // A number moved to a row the write keeps (a longer prefix over it removed or blocked
  // now) is the write's too: its row in the open set (`current_over`) is another, or
  // blocked — else blocking a cheaper 4420 under 44, then removing it, raised its numbers
  // to 44's price with no notice (each write alone compared with the open set, where
  // 4420 was blocked, and 44 not brought by the write).
  const current = !onlyBrought
    ? { ctes: '', join: '', brought: 'ns.fresh', params: [] as string[] }
    : {
        ctes: `c as (select * from rate_history where card_id = ? and to_rev is null),`,
        join: 'left join current_over co on co.key = ns.key and co.at = ns.at',
        brought: `(ns.fresh or co.prefix is distinct from ns.prefix
                     or co.effective_from is distinct from ns.effective_from or co.blocked)`,
        params: [cardId],
      };
  const currentOver = !onlyBrought
    ? ''
    : `current_over as (
            select distinct on (l.key, t.at) l.key, t.at, c.prefix, c.effective_from, c.blocked
              from leads l join key_times t on t.key = l.key
              join c on c.prefix = l.lead and coalesce(c.effective_from, '-infinity'::timestamptz) <= t.at
             order by l.key, t.at, length(c.prefix) desc, c.effective_from desc nulls last),`;
  // A raise on what the holders were told that a write above has since set (or passed):
  // the number's row in force then in revision `excusedBy` prices it at least as high.
  const excused =
    excusedBy === null
      ? { sql: 'true', params: [] as unknown[] }
      : {
          sql: `not exists (
                  select 1 from (
                    select h.* from rate_history h
                      join generate_series(1, length(r.number)) n on h.prefix = left(r.number, n)
                     where h.card_id = ? and ${rowsAt('h')}
                       and coalesce(h.effective_from, '-infinity'::timestamptz) <= r.at
                     order by length(h.prefix) desc, h.effective_from desc nulls last
                     limit 1) c
                  where not c.blocked and not ${dearerSql('r', 'c', card)})`,
          params: [cardId, excusedBy, excusedBy] as unknown[],
        };
  const [row] = await tx.execute<{ at: Date | null; rows: string }[]>(
    `with s as (select s.*, ${fresh} as fresh from rev_set s where s.card_id = ?),
          o as (select * from rate_history where card_id = ? and ${than}),
          ${current.ctes}
          moments as (
            select prefix, ?::timestamptz as at from s
            union select prefix, effective_from from s where effective_from > ?::timestamptz
            union select prefix, effective_from from o where effective_from > ?::timestamptz),
          staged as (
            select distinct on (m.prefix, m.at) m.at, s.*
              from moments m join s on s.prefix = m.prefix
                               and coalesce(s.effective_from, '-infinity'::timestamptz) <= m.at
             order by m.prefix, m.at, s.effective_from desc nulls last),
          open as (
            select distinct on (m.prefix, m.at) m.at, o.*
              from moments m join o on o.prefix = m.prefix
                               and coalesce(o.effective_from, '-infinity'::timestamptz) <= m.at
             order by m.prefix, m.at, o.effective_from desc nulls last),
          moved as (
            select prefix from (select prefix, min(${since}) as since from s group by prefix) a
              full join (select prefix, min(${since}) as since from o group by prefix) b using (prefix)
             where a.since is distinct from b.since),
          leads as (
            select m.prefix as key, left(m.prefix, n) as lead
              from moved m cross join generate_series(1, length(m.prefix)) n),
          -- A number's price moves only when a row over it takes effect: each key at the
          -- revision's date and at its own leads' dated times, not every time on the card.
          key_times as (
            select prefix as key, ?::timestamptz as at from moved
            union select l.key, m.at from leads l join moments m on m.prefix = l.lead),
          staged_over as (
            select distinct on (l.key, t.at) l.key, t.at, s.*
              from leads l join key_times t on t.key = l.key
              join s on s.prefix = l.lead and coalesce(s.effective_from, '-infinity'::timestamptz) <= t.at
             order by l.key, t.at, length(s.prefix) desc, s.effective_from desc nulls last),
          open_over as (
            select distinct on (l.key, t.at) l.key, t.at, o.*
              from leads l join key_times t on t.key = l.key
              join o on o.prefix = l.lead and coalesce(o.effective_from, '-infinity'::timestamptz) <= t.at
             order by l.key, t.at, length(o.prefix) desc, o.effective_from desc nulls last),
          ${currentOver}
          raised as (
            select ns.at, ns.prefix, ns.effective_from, ns.prefix as number, ${TERMS('ns')}
              from staged ns join open os on os.prefix = ns.prefix and os.at = ns.at
             where ns.fresh and not ns.blocked and not os.blocked and ${dearerSql('ns', 'os', card)}
            union all
            select ns.at, ns.prefix, ns.effective_from, ns.key as number, ${TERMS('ns')}
              from staged_over ns join open_over os on os.key = ns.key and os.at = ns.at
              ${current.join}
             where ${current.brought} and not ns.blocked and not os.blocked
               and ${dearerSql('ns', 'os', card)})
     select min(r.at) as at, count(distinct (r.prefix, r.effective_from)) as rows
       from raised r where ${excused.sql} and (?::timestamptz is null or r.at < ?::timestamptz)`,
    [
      cardId,
      cardId,
      ...thanParams,
      ...current.params,
      liveAt,
      liveAt,
      liveAt,
      liveAt,
      ...excused.params,
      until,
      until,
    ],
  );
  return row?.at ? { at: new Date(row.at), rows: Number(row.rows) } : null;
}

/**
 * The revision the card's holders knew `hours` ago: the latest recorded by then and not
 * cancelled — or, on a card younger than its notice, its first: what they were first
 * told. A price is raised with notice only if it is above what they were told then,
 * too — else removing a row and writing it again dearer, in two writes, gives none (on
 * a young card too: a 720-hour notice would otherwise bind nothing for 30 days).
 */
async function knownBefore(
  tx: EntityManager,
  cardId: string,
  hours: number,
): Promise<number | null> {
  const [row] = await tx.execute<{ number: number | null }[]>(
    `select coalesce(max(number) filter (where created_at <= now() - (? * interval '1 hour')),
                     min(number)) as number
       from rate_revision where card_id = ? and cancelled_at is null`,
    [hours, cardId],
  );
  return row?.number ?? null;
}

/**
 * The latest revision after `known` that another account's write carried into the card
 * (it follows a parent of another owner, which repriced it: no notice of this card's is
 * asked of that). A number it prices at least as high as a write does excuses that
 * write's price from the comparison with what the holders were told (`firstRaise`'s
 * `excusedBy`): they pay that since, by a write above — else a cut of the card's own
 * markup after it read as a raise. A number it does not price excuses nothing.
 */
async function carriedSince(
  tx: EntityManager,
  cardId: string,
  known: number,
): Promise<number | null> {
  // Up each revision's chain of parent revisions (a write above may reach it through
  // cards of the same owner): carried if one of them is on a card of another owner.
  const [row] = await tx.execute<{ number: number | null }[]>(
    `with recursive chain as (
       select r.number as n, r.parent_revision_id as rev from rate_revision r
        where r.card_id = ? and r.cancelled_at is null and r.number > ?
          and r.parent_revision_id is not null
       union all
       select chain.n, p.parent_revision_id from chain join rate_revision p on p.id = chain.rev
        where p.parent_revision_id is not null)
     select max(chain.n) as number
       from chain join rate_revision a on a.id = chain.rev join card ac on ac.id = a.card_id
      where ac.owner_id <> (select owner_id from card where id = ?)`,
    [cardId, known, cardId],
  );
  return row?.number ?? null;
}

/**
 * A card's notice set to `next` hours (null: none) at `now` (the transaction's clock).
 * Lowered, the notice it gave still binds its next revisions for as many hours as it
 * was (`notice_floor_*`, Migration20261223100000; `recordRevision` asks for the larger):
 * the holders were promised it, and lowering it in the request that raises a price, or
 * between two requests around one, would otherwise take the promise back at once. A
 * floor already binding is kept as long as it would have bound: the larger hours, the
 * later end (stricter than each promise alone, never looser).
 */
export function setNotice(card: TCard, next: number | null, now: Date): void {
  const floorBinds = card.noticeFloorUntil !== null && card.noticeFloorUntil! > now;
  const promised = card.minNoticeHours ?? 0;
  if ((next ?? 0) < promised) {
    const until = new Date(now.getTime() + promised * 3_600_000);
    card.noticeFloorHours = Math.max(promised, floorBinds ? card.noticeFloorHours! : 0);
    card.noticeFloorUntil =
      floorBinds && card.noticeFloorUntil! > until ? card.noticeFloorUntil : until;
  }
  card.minNoticeHours = next;
}

/** At the same precision, each mode prices every amount at least as high as the one before. */
const ROUNDING_ORDER: readonly TRoundingMode[] = ['down', 'half_even', 'half_up', 'up'];

/**
 * Whether pricing calls at `next`'s precision and rounding can charge some call more than
 * at `was`'s, with the same rows (a card's precision or rounding edited): the notice rule
 * counts that a raise of every row. Never higher: the same precision and a mode as low or
 * lower; a finer precision after rounding up (the next finer amount is never above the
 * coarser one rounded up); a coarser one rounding down (never above any finer rounding).
 */
export function canPriceHigher(was: TCardRounding, next: TCardRounding): boolean {
  const rank = (mode: TRoundingMode) => ROUNDING_ORDER.indexOf(mode);
  if (next.decimals === was.decimals) return rank(next.rounding) > rank(was.rounding);
  if (next.decimals > was.decimals) return was.rounding !== 'up';
  return next.rounding !== 'down';
}

/**
 * A raise by the card's precision or rounding (`canPriceHigher`), against the revision
 * the new one follows: from the revision's date, every row it prices calls with.
 */
async function termsRaise(
  tx: EntityManager,
  cardId: string,
  following: number | null,
  liveAt: Date,
): Promise<{ at: Date; rows: number } | null> {
  if (following === null) return null;
  const [row] = await tx.execute<
    {
      was_decimals: number | null;
      was_rounding: TRoundingMode | null;
      decimals: number;
      rounding: TRoundingMode;
      priced: string;
    }[]
  >(
    `select r.decimals as was_decimals, r.rounding as was_rounding, c.decimals, c.rounding,
            (select count(*) from rev_set s where s.card_id = c.id and not s.blocked) as priced
       from card c join rate_revision r on r.card_id = c.id and r.number = ?
      where c.id = ?`,
    [following, cardId],
  );
  if (!row || row.was_decimals === null || row.was_rounding === null) return null;
  const was = { decimals: row.was_decimals, rounding: row.was_rounding };
  const rows = Number(row.priced);
  return rows > 0 && canPriceHigher(was, row) ? { at: liveAt, rows } : null;
}

/** Of two raises, the one from the earlier moment. */
function earlier<T extends { at: Date }>(a: T | null, b: T | null): T | null {
  if (!a || !b) return a ?? b;
  return b.at < a.at ? b : a;
}

/** The rows of revision `number`: those it opened or inherited and did not close. */
export function rowsAt(alias: string): string {
  return `${alias}.from_rev <= ? and (${alias}.to_rev is null or ${alias}.to_rev > ?)`;
}

/**
 * A rate row (`alias`) with more decimals than `?` (given twice): a card keeps its rates
 * at its own precision, which is what its lists show and what its rounding assumes (the
 * margin check's one-period shortcut among them), so no such row may be live on it.
 */
export function finerRowSql(alias: string): string {
  return `(${alias}.rate <> round(${alias}.rate, ?) or ${alias}.connection_fee <> round(${alias}.connection_fee, ?))`;
}

/** A card's revision `number` from history into `rev_set` (a rollback's source). */
export async function loadRevisionSet(
  tx: EntityManager,
  cardId: string,
  number: number,
): Promise<void> {
  await prepareRevSet(tx, cardId);
  await tx.execute(
    `insert into rev_set (card_id, ${SET_COLUMNS})
     select card_id, ${SET_COLUMNS} from rate_history h where h.card_id = ? and ${rowsAt('h')}`,
    [cardId, number, number],
  );
}

/** The latest revision not cancelled: the one a new revision follows. */
export async function latestRevision(
  tx: EntityManager,
  cardId: string,
): Promise<{ number: number; live_at: Date; applied_at: Date | null } | undefined> {
  const [row] = await tx.execute<{ number: number; live_at: Date; applied_at: Date | null }[]>(
    `select number, live_at, applied_at from rate_revision
      where card_id = ? and cancelled_at is null order by number desc limit 1`,
    [cardId],
  );
  return row;
}

/**
 * A new revision goes live no earlier than one already scheduled (revisions go live in
 * the order they are numbered, each the diff of the one before): 409 otherwise; the latest
 * revision, for the caller's further checks. Asked
 * first by a writer that checks its rows against the latest revision, so the answer is
 * the pending revision, not a row "missing" from it.
 */
export async function assertAfterScheduled(
  tx: EntityManager,
  cardId: string,
  liveAt: Date | null | undefined,
): Promise<Awaited<ReturnType<typeof latestRevision>>> {
  const latest = await latestRevision(tx, cardId);
  if (latest && !latest.applied_at) {
    const pending = new Date(latest.live_at);
    if (!liveAt || liveAt < pending) {
      throw conflict(
        'revision_scheduled',
        `Revision ${latest.number} goes live at ${pending.toISOString()}; a new revision cannot go live before it.`,
        { number: latest.number, liveAt: pending.toISOString() },
      );
    }
  }
  return latest;
}

/**
 * New or changed rows dated before now, by prefix: a revision is not retroactive. An
 * import names their lines (`importRates`, all of them up to a file's limit of
 * refusals); elsewhere the field, with the first five prefixes.
 */
export class RowsInThePast extends DomainError {
  constructor(readonly rows: { prefix: string; effective_from: Date | string }[]) {
    const reason = `is in the past for new or changed rows (prefix ${rows
      .slice(0, 5)
      .map((row) => row.prefix)
      .join(', ')}): a revision is not retroactive`;
    super('invalid_input', 'invalid_input', `Invalid input: effectiveFrom ${reason}.`, {
      fields: { effectiveFrom: reason },
    });
  }
}

/**
 * `rev_set`'s rows of the card become its next revision, live now or at `plan.liveAt`.
 * Refused: a date before a revision already scheduled (revisions go live in the order
 * they are numbered, each the diff of the one before), a new or changed row of a deck
 * written or imported taking effect in the past, and an increase with less notice than
 * the card asks for.
 */
export async function recordRevision(
  tx: EntityManager,
  cardId: string,
  plan: TRevisionPlan,
): Promise<TRecordedRevision> {
  // The transaction's clock, as the database's own check reads it (read once, when a
  // check below needs it): never this process's, which may run ahead or behind.
  let now: Date | undefined;
  const clock = async () => (now ??= await databaseClock(tx, 'transaction'));
  // A date that passed while a large file streamed in is refused here with the field named.
  if (plan.liveAt && plan.liveAt < (await clock())) {
    throw invalidInput({ liveAt: 'is in the past' });
  }
  const latest = await assertAfterScheduled(tx, cardId, plan.liveAt);
  if (plan.source === 'put' || plan.source === 'import') {
    const late = await tx.execute<{ prefix: string; effective_from: Date | string }[]>(
      `select s.prefix, s.effective_from from rev_set s
        where s.card_id = ? and s.effective_from < now()
          and not exists (select 1 from rate_history h
                           where h.card_id = s.card_id and h.to_rev is null and ${sameRow('h', 's')})
        order by s.prefix limit ?`,
      [cardId, CSV_REFUSALS_MAX],
    );
    if (late.length) throw new RowsInThePast(late);
  }
  // Every join below is two whole sets: hashed, never row by row. Statistics cannot be
  // trusted for that — a temporary table is never analysed by autovacuum, and history
  // just written is not analysed yet — and a nested loop over 100k × 100k rows on a
  // misestimate took minutes. Restored after the last of them. The joins need the row
  // count and rough column statistics only: a sample of 3,000 rows (statistics target
  // 10) instead of 30,000 took the analyse of a 100k-row set from 80–130 ms to 13 ms,
  // the row count exact either way. The target is put back at once.
  const [sampled] = await tx.execute<{ was: string }[]>(
    `select current_setting('default_statistics_target') as was,
            set_config('default_statistics_target', '10', true)`,
  );
  await tx.execute('analyze rev_set');
  const [planner] = await tx.execute<{ was: string }[]>(
    `select current_setting('enable_nestloop') as was, set_config('enable_nestloop', 'off', true),
            set_config('default_statistics_target', ?, true)`,
    [sampled!.was],
  );
  const [counted] = await tx.execute<
    Record<keyof TRevisionCounts | 'rows' | 'losing' | 'changed_hidden', string>[]
  >(
    `select count(*) filter (where h.prefix is null) as added,
            count(*) filter (where s.prefix is null) as removed,
            count(*) filter (where s.rate > h.rate) as increased,
            count(*) filter (where s.rate < h.rate) as decreased,
            count(*) filter (where s.rate = h.rate and not (${sameTerms('s', 'h')})) as changed,
            count(*) filter (where s.rate = h.rate and ${sameTerms('s', 'h')}) as unchanged,
            count(*) filter (where s.rate = h.rate and not (${sameTerms('s', 'h')})
                               and ${sameVisibleTerms('s', 'h')}) as changed_hidden,
            count(s.prefix) as rows,
            count(*) filter (where s.losing) as losing
       from (select * from rev_set where card_id = ?) s
       full join (select * from rate_history where card_id = ? and to_rev is null) h
         on ${sameKey('h', 's')}`,
    [cardId, cardId],
  );
  const hidden = Number(counted?.changed_hidden ?? 0);
  const counts: TRevisionCounts = {
    added: Number(counted?.added ?? 0),
    removed: Number(counted?.removed ?? 0),
    increased: Number(counted?.increased ?? 0),
    decreased: Number(counted?.decreased ?? 0),
    changed: Number(counted?.changed ?? 0),
    unchanged: Number(counted?.unchanged ?? 0),
  };
  const card = await noticeOf(tx, cardId);
  const hours = plan.upstream ? 0 : (card?.hours ?? 0);
  if (hours > 0) {
    // By the transaction's clock: by this process's, a clock running behind would count
    // more notice than the card's holders get.
    const from = await clock();
    const known = await knownBefore(tx, cardId, hours);
    const raised = [
      await firstRaise(tx, cardId, card!, plan.liveAt ?? from),
      known !== null && known !== latest?.number
        ? await firstRaise(
            tx,
            cardId,
            card!,
            plan.liveAt ?? from,
            known,
            true,
            await carriedSince(tx, cardId, known),
          )
        : null,
      await termsRaise(tx, cardId, latest?.number ?? null, plan.liveAt ?? from),
    ].reduce(earlier, null);
    const notice = raised ? (raised.at.getTime() - from.getTime()) / 3_600_000 : Infinity;
    if (notice < hours) {
      throw conflict(
        'notice_too_short',
        `${noticeText(card!)}; ${raised!.rows} rows price calls higher, the first from ${raised!.at.toISOString()}.`,
        { cardId, minNoticeHours: hours, increased: counts.increased, raised: raised!.rows },
      );
    }
  }
  const [numbered] = await tx.execute<{ next: number }[]>(
    'select coalesce(max(number), 0) + 1 as next from rate_revision where card_id = ?',
    [cardId],
  );
  const number = Number(numbered!.next);
  const live = plan.liveAt === null;
  const [inserted] = await tx.execute<{ id: string; live_at: Date }[]>(
    `insert into rate_revision (card_id, number, live_at, created_by, source, previous, based_on,
       parent_revision_id, applied_at, rows, losing, added, removed, increased, decreased, changed,
       unchanged, changed_hidden, decimals, rounding)
     select c.id, ?, coalesce(?::timestamptz, now()), ?, ?, ?, ?, ?, case when ? then now() end,
            ?, ?, ?, ?, ?, ?, ?, ?, ?, c.decimals, c.rounding
       from card c where c.id = ?
     returning id, live_at`,
    [
      number,
      plan.liveAt?.toISOString() ?? null,
      plan.createdBy,
      plan.source,
      latest?.number ?? null,
      plan.basedOn ?? null,
      plan.parentRevisionId ?? null,
      live,
      Number(counted?.rows ?? 0),
      Number(counted?.losing ?? 0),
      counts.added,
      counts.removed,
      counts.increased,
      counts.decreased,
      counts.changed,
      counts.unchanged,
      hidden,
      cardId,
    ],
  );
  // Closed first: what stays open afterwards is exactly the unchanged rows, which the
  // insert then skips.
  await tx.execute(
    `update rate_history h set to_rev = ?
      where h.card_id = ? and h.to_rev is null
        and not exists (select 1 from rev_set s where s.card_id = h.card_id and ${sameRow('h', 's')})`,
    [number, cardId],
  );
  await tx.execute(
    `insert into rate_history (card_id, ${SET_COLUMNS}, from_rev, to_rev)
     select card_id, ${SET_COLUMNS}, ?, null from rev_set s
      where s.card_id = ?
        and not exists (select 1 from rate_history h
                         where h.card_id = s.card_id and h.to_rev is null and ${sameRow('h', 's')})
      order by s.prefix`,
    [number, cardId],
  );
  await tx.execute(`select set_config('enable_nestloop', ?, true)`, [planner!.was]);
  if (live) await goLive(tx, cardId, number);
  return {
    id: String(inserted!.id),
    number,
    liveAt: new Date(inserted!.live_at),
    live,
    rows: Number(counted?.rows ?? 0),
    losing: Number(counted?.losing ?? 0),
    counts,
    holderCounts: holderCounts(counts, hidden),
  };
}

/** The revisions one rate write recorded: its card's own, and its derived cards'. */
export interface TWrittenRevisions {
  own: TRecordedRevision;
  derived: TRecordedRevision[];
}

/**
 * A write's revisions settled against the database's clock once the write holds its
 * carrier's commit order (`atCommitOrder`), after every rating batch of the carrier that
 * committed before it and before any that commits after.
 *
 * Live-now revisions are dated by that moment, not by the transaction's start (`now()`,
 * as `recordRevision` first dates them). A batch that committed while a write of seconds
 * ran priced its calls by the revision before; dated at the write's start, the new one
 * would cover those calls, and the trace would show a price that was never charged.
 * Dated here, it covers only calls a later batch prices — and that batch checks, in the
 * same order, that it priced by it (rate-batch.ts `assertPlanUnchanged`).
 *
 * A scheduled revision whose date came while the write ran (it waited for a card's lock,
 * or a large file streamed in) is refused: batches committed since its date priced by
 * the revision before it. Only calls dated ahead of the database's clock (the switch's
 * allowance, `USAGE_CLOCK_SKEW_MS`) can still have been priced before a revision that
 * then covers them.
 */
export async function settleDates(tx: EntityManager, written: TWrittenRevisions): Promise<void> {
  const all = [written.own, ...written.derived];
  const scheduled = all.filter((revision) => !revision.live);
  if (scheduled.length) {
    const due = await tx.execute<{ id: string }[]>(
      `select id::text as id from rate_revision
        where id = any(?::bigint[]) and live_at <= clock_timestamp()`,
      [`{${scheduled.map((revision) => revision.id).join(',')}}`],
    );
    if (due.some((row) => row.id === written.own.id)) {
      throw invalidInput({ liveAt: 'is in the past: it came while the write waited' });
    }
    if (due.length) {
      throw conflict(
        'revision_due',
        'A scheduled revision of a derived card came due while this write ran; nothing was written. Write again.',
      );
    }
  }
  const live = all.filter((revision) => revision.live);
  if (!live.length) return;
  const dated = await tx.execute<{ id: string; live_at: Date }[]>(
    `update rate_revision r set live_at = t.at, applied_at = t.at
       from (select clock_timestamp() as at) t
      where r.id = any(?::bigint[])
      returning r.id::text as id, r.live_at`,
    [`{${live.map((revision) => revision.id).join(',')}}`],
  );
  const at = new Map(dated.map((row) => [row.id, new Date(row.live_at)]));
  for (const revision of live) revision.liveAt = at.get(revision.id) ?? revision.liveAt;
}

/**
 * Revision `number` of the card goes live: the `rate` view reads the card's rows at its
 * live revision from history (Migration20261220100000), so nothing is copied.
 */
export async function goLive(tx: EntityManager, cardId: string, number: number): Promise<void> {
  await tx.execute('update card set live_revision = ? where id = ?', [number, cardId]);
}

/**
 * A scheduled revision withdrawn before it went live: its rows leave history and the
 * rows it closed open again, so history reads as if it had never been written.
 */
export async function withdrawRevision(
  tx: EntityManager,
  cardId: string,
  number: number,
): Promise<void> {
  await tx.execute('delete from rate_history where card_id = ? and from_rev = ?', [cardId, number]);
  await tx.execute('update rate_history set to_rev = null where card_id = ? and to_rev = ?', [
    cardId,
    number,
  ]);
  await tx.execute(
    'update rate_revision set cancelled_at = now() where card_id = ? and number = ?',
    [cardId, number],
  );
}

/** A card or any card derived from it has a revision waiting to go live. */
export async function hasScheduledRevision(tx: EntityManager, cardId: string): Promise<boolean> {
  const rows = await tx.execute(
    `with recursive tree as (
       select ?::uuid as id
       union all
       select cp.card_id from card_parent cp join tree on cp.parent_id = tree.id)
     select 1 from rate_revision r join tree on tree.id = r.card_id
      where r.applied_at is null and r.cancelled_at is null limit 1`,
    [cardId],
  );
  return rows.length > 0;
}
