import type { EntityManager } from '@mikro-orm/postgresql';
import type { z } from 'zod';
import type { TActor } from '@/lib/server/authz/actor';
import { conflict, invalidInput, notFound } from '@/lib/server/errors/domain-error';
import { money } from '@/lib/shared/pricing/money';
import type { TPage } from '@/lib/shared/schemas/common';
import type {
  TRevisionChange,
  TRevisionCounts,
  TRevisionDiff,
  TRevisionDiffRow,
  TRevisionDto,
  TRevisionRef,
  TRevisionSource,
  TRevisionState,
  ZRevisionDiffQuery,
  ZRevisionListQuery,
} from '@/lib/shared/schemas/revisions';
import { findCardForRates } from './rate-access';
import { decodeRateCursor, encodeRateCursor } from './list-rates';
import { holderCounts, sameKey, sameVisibleTerms, type TRecordedRevision } from './revisions';

/** A revision just written, as the write's answer names it. */
export function revisionRef(revision: TRecordedRevision): TRevisionRef {
  return {
    number: revision.number,
    liveAt: revision.liveAt.toISOString(),
    state: revision.live ? 'live' : 'scheduled',
    counts: revision.counts,
  };
}

interface TRevisionRow {
  number: number;
  state: TRevisionState;
  live_at: Date;
  created_at: Date;
  source: TRevisionSource;
  previous: number | null;
  based_on: number | null;
  rows: number;
  added: number;
  removed: number;
  increased: number;
  decreased: number;
  changed: number;
  unchanged: number;
  changed_hidden: number;
}

/**
 * A revision is live from its date, as rating reads it (usage is rated with the revision
 * live at the call's start), not from when the revision timer made it the card's live one: one
 * whose date has come but not yet applied is `live` (or `superseded`), never `scheduled`,
 * so the panel does not offer to cancel what may already have been charged.
 */
const REVISION_COLUMNS = `r.number, r.live_at, r.created_at, r.source, r.previous, r.based_on, r.rows,
  r.added, r.removed, r.increased, r.decreased, r.changed, r.unchanged, r.changed_hidden,
  case when r.cancelled_at is not null then 'cancelled'
       when r.applied_at is null and r.live_at > now() then 'scheduled'
       when r.number = (select max(x.number) from rate_revision x
                         where x.card_id = r.card_id and x.cancelled_at is null
                           and (x.applied_at is not null or x.live_at <= now())) then 'live'
       else 'superseded' end as state`;

/** The revision's counts; a holder reads a row whose visible terms stayed as unchanged. */
function countsOf(row: TRevisionRow, ownerView: boolean): TRevisionCounts {
  const counts = {
    added: row.added,
    removed: row.removed,
    increased: row.increased,
    decreased: row.decreased,
    changed: row.changed,
    unchanged: row.unchanged,
  };
  return ownerView ? counts : holderCounts(counts, row.changed_hidden);
}

/**
 * An assignee reads the revisions of its buy card (what changes, when), not how the card
 * is made: a derived card's `parent` and `markup` sources read as the card's own.
 */
function toRevisionDto(row: TRevisionRow, ownerView: boolean): TRevisionDto {
  const hidden = !ownerView && (row.source === 'parent' || row.source === 'markup');
  return {
    number: row.number,
    state: row.state,
    liveAt: new Date(row.live_at).toISOString(),
    createdAt: new Date(row.created_at).toISOString(),
    source: hidden ? 'put' : row.source,
    previous: row.previous,
    basedOn: row.based_on,
    rows: row.rows,
    counts: countsOf(row, ownerView),
  };
}

/** `GET /cards/{id}/revisions`: newest first, with their states. */
export async function listRevisions(
  em: EntityManager,
  actor: TActor,
  unverifiedCardId: string,
  query: z.infer<typeof ZRevisionListQuery>,
): Promise<TPage<TRevisionDto>> {
  const { card, relation } = await findCardForRates(em, actor, unverifiedCardId);
  const params: unknown[] = [card.id];
  let after = '';
  if (query.cursor) {
    // A revision number is an int: a longer one would reach SQL as an out-of-range 400
    // that does not name the field.
    if (!/^[1-9]\d{0,8}$/.test(query.cursor))
      throw invalidInput({ cursor: 'is not a cursor this API gave out' });
    after = 'and r.number < ?';
    params.push(Number(query.cursor));
  }
  params.push(query.limit + 1);
  const rows = await em.execute<TRevisionRow[]>(
    `select ${REVISION_COLUMNS} from rate_revision r
      where r.card_id = ? ${after} order by r.number desc limit ?`,
    params,
  );
  const items = rows.slice(0, query.limit);
  return {
    items: items.map((row) => toRevisionDto(row, relation === 'owner')),
    nextCursor: rows.length > query.limit ? String(items.at(-1)!.number) : null,
  };
}

export async function findRevision(
  em: EntityManager,
  cardId: string,
  number: number,
): Promise<TRevisionRow> {
  const [row] = await em.execute<TRevisionRow[]>(
    `select ${REVISION_COLUMNS} from rate_revision r where r.card_id = ? and r.number = ?`,
    [cardId, number],
  );
  if (!row) throw notFound('revision');
  return row;
}

interface TDiffSqlRow {
  prefix: string;
  effective_from: Date | null;
  change: TRevisionChange;
  [column: string]: unknown;
}

const TERMS = [
  'destination',
  'rate',
  'connection_fee',
  'initial_increment',
  'increment',
  'grace_seconds',
  'minimum_seconds',
  'blocked',
] as const;

function termsOf(alias: string, as: string): string {
  return TERMS.map((column) => `${alias}.${column} as ${as}_${column}`).join(', ');
}

/**
 * `GET /cards/{id}/revisions/{n}/diff`: the revision against the one before it, by
 * prefix and effective time. History stores a revision's new and changed rows as those
 * it opened (`from_rev = n`) and the ones it replaced or removed as those it closed
 * (`to_rev = n`), so the differing rows are one join of those two small sets — never of
 * two whole decks; unchanged rows are the ones open across it.
 */
export async function revisionDiff(
  em: EntityManager,
  actor: TActor,
  unverifiedCardId: string,
  number: number,
  query: z.infer<typeof ZRevisionDiffQuery>,
): Promise<TRevisionDiff> {
  const { card, relation } = await findCardForRates(em, actor, unverifiedCardId);
  const owner = relation === 'owner';
  const revision = await findRevision(em, card.id, number);
  if (revision.state === 'cancelled') {
    throw conflict('revision_cancelled', `Revision ${number} was cancelled; it has no rows.`);
  }
  const filters: string[] = [];
  const params: unknown[] = [];
  // The rows it opened against those it closed. A holder reads a row whose rate and
  // visible terms stayed (only the owner's `losing`, `overridden`, `priced_by` moved) as
  // unchanged, so it never learns which prefixes its seller now loses on.
  const changedSql = owner
    ? `'changed'`
    : `case when ${sameVisibleTerms('a', 'b')} then 'unchanged' else 'changed' end`;
  const differing = `select coalesce(a.prefix, b.prefix) as prefix,
                     coalesce(a.effective_from, b.effective_from) as effective_from,
                     case when b.prefix is null then 'new' when a.prefix is null then 'removed'
                          when a.rate > b.rate then 'increased' when a.rate < b.rate then 'decreased'
                          else ${changedSql} end as change,
                     ${termsOf('b', 'b')}, ${termsOf('a', 'a')}
                from (select * from rate_history where card_id = ? and from_rev = ?) a
                full join (select * from rate_history where card_id = ? and to_rev = ?) b
                  on ${sameKey('a', 'b')}`;
  let source: string;
  if (query.change === 'unchanged') {
    source = `select h.prefix, h.effective_from, 'unchanged' as change, ${termsOf('h', 'b')}, ${termsOf('h', 'a')}
                from rate_history h
               where h.card_id = ? and h.from_rev < ? and (h.to_rev is null or h.to_rev > ?)`;
    params.push(card.id, number, number);
    if (!owner) {
      source = `${source} union all select * from (${differing}) x where x.change = 'unchanged'`;
      params.push(card.id, number, card.id, number);
    }
  } else {
    source = differing;
    params.push(card.id, number, card.id, number);
    if (query.change) {
      filters.push('d.change = ?');
      params.push(query.change);
    } else if (!owner) {
      filters.push(`d.change <> 'unchanged'`);
    }
  }
  if (query.cursor) {
    const [prefix, at] = decodeRateCursor(query.cursor);
    filters.push(
      `(d.prefix, coalesce(d.effective_from, '-infinity'::timestamptz)) > (?, coalesce(?::timestamptz, '-infinity'::timestamptz))`,
    );
    params.push(prefix, at);
  }
  params.push(query.limit + 1);
  const rows = await em.execute<TDiffSqlRow[]>(
    `select * from (${source}) d ${filters.length ? `where ${filters.join(' and ')}` : ''}
      order by d.prefix, coalesce(d.effective_from, '-infinity'::timestamptz) limit ?`,
    params,
  );
  const items = rows.slice(0, query.limit);
  // Each side at the precision it was priced with — this revision's, the one before's —
  // not the card's now: lowered since, it would show an old 0.123456 as 0.1235.
  const [precision] = await em.execute<{ after: number | null; before: number | null }[]>(
    `select r.decimals as after, p.decimals as before from rate_revision r
       left join rate_revision p on p.card_id = r.card_id and p.number = r.previous
      where r.card_id = ? and r.number = ?`,
    [card.id, number],
  );
  const decimals = {
    a: precision?.after ?? card.decimals,
    b: precision?.before ?? precision?.after ?? card.decimals,
  };
  const terms = (row: TDiffSqlRow, side: 'a' | 'b') =>
    row[`${side}_rate`] === null || row[`${side}_rate`] === undefined
      ? null
      : {
          destination: String(row[`${side}_destination`]),
          rate: money(String(row[`${side}_rate`])).toFixed(decimals[side]),
          connectionFee: money(String(row[`${side}_connection_fee`])).toFixed(decimals[side]),
          initialIncrement: Number(row[`${side}_initial_increment`]),
          increment: Number(row[`${side}_increment`]),
          graceSeconds: Number(row[`${side}_grace_seconds`]),
          ...(Number(row[`${side}_minimum_seconds`])
            ? { minimumSeconds: Number(row[`${side}_minimum_seconds`]) }
            : {}),
          blocked: Boolean(row[`${side}_blocked`]),
        };
  return {
    revision: toRevisionDto(revision, owner),
    counts: countsOf(revision, owner),
    items: items.map((row): TRevisionDiffRow => ({
      prefix: row.prefix,
      effectiveFrom: row.effective_from ? new Date(row.effective_from).toISOString() : null,
      change: row.change,
      before: terms(row, 'b'),
      after: terms(row, 'a'),
    })),
    nextCursor: rows.length > query.limit ? encodeRateCursor(items.at(-1)!) : null,
  };
}
