import type { EntityManager } from '@mikro-orm/postgresql';
import type { TLogEntry } from '@/lib/server/authz/audience';
import { holdsSql, onPathSql, withinSql, type TSqlFragment } from '@/lib/server/authz/scope';
import type { TAudienceHints } from './change-log';

/** A change-log row as read with its actor's names (the fan-out, catch-up, the audit). */
export interface TLogRow {
  /** The entry's position in its carrier's order (selected as `carrier_seq as seq`). */
  seq: string;
  carrier_id: string;
  at: Date;
  resource: string;
  entity_id: string;
  op: TLogEntry['op'];
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  scope_before: string | null;
  scope_after: string | null;
  summary: Record<string, unknown> | null;
  audience: TAudienceHints | null;
  affects_access: boolean;
  actor_user_id: string | null;
  actor_name: string | null;
  actor_email: string | null;
  actor_user_path: string | null;
  actor_account_name: string | null;
  actor_account_path: string | null;
  /** Its before, after and summary as text, in bytes (the fan-out's read only). */
  bytes?: string | number;
}

/** What the fan-out and catch-up read of an entry, with what naming the actor needs. */
const ENTRY_COLUMNS = `c.seq, c.carrier_id, c.at, c.resource, c.entity_id, c.op, c.before, c.after,
  c.scope_before, c.scope_after, c.summary, c.audience, c.affects_access, c.actor_user_id,
  au.name as actor_name, au.email as actor_email, aua.path as actor_user_path,
  aa.name as actor_account_name, aa.path as actor_account_path`;
/**
 * An entry's size as text (`TLogEntry.bytes`): the fan-out and catch-up keep what they
 * read within a budget of bytes (a card's entry may be a megabyte — its rules, or the
 * holders its audience names: a card held by 3,000 customers is ~120 KB).
 */
const ENTRY_BYTES = `coalesce(octet_length(c.before::text), 0) + coalesce(octet_length(c.after::text), 0)
  + coalesce(octet_length(c.summary::text), 0) + coalesce(octet_length(c.audience::text), 0)`;
const PAGE_COLUMNS = `carrier_seq as seq, carrier_id, at, resource, entity_id, op, before, after,
  scope_before, scope_after, summary, audience, affects_access, actor_user_id, actor_account_id`;
const ACTOR_JOINS = `left join app_user au on au.id = c.actor_user_id
  left join account aua on aua.id = au.account_id
  left join account aa on aa.id = c.actor_account_id`;

/**
 * One carrier's entries after position `afterSeq`, in its commit order (catch-up).
 * `scope` narrows the read for one viewer: entries in its subtree, plus groups and cards
 * owned above it (the use-only relation, cards assigned to it), up to position `upTo`
 * (a window: the narrowing is a filter, so a viewer who sees little would make the read
 * walk every entry after `afterSeq` to fill a page). The audience function then decides
 * exactly; this only keeps the read small.
 */
export async function readLogAfter(
  em: EntityManager,
  carrierId: string,
  afterSeq: number,
  limit: number,
  scope?: { accountPath: string; upTo?: number },
): Promise<TLogEntry[]> {
  const narrow = scope ? viewerScopeSql(scope.accountPath) : null;
  const upTo = scope?.upTo === undefined ? '' : 'and carrier_seq <= ?';
  // The page is chosen first and the actor joined to its rows alone: joined before the
  // limit, every entry after `afterSeq` was joined and sorted to keep a thousand.
  const rows = await em.execute<TLogRow[]>(
    `select ${ENTRY_COLUMNS}, ${ENTRY_BYTES} as bytes
       from (select ${PAGE_COLUMNS}
               from change_log
              where carrier_id = ? and carrier_seq > ? ${upTo}
                ${narrow ? `and ${narrow.sql}` : ''}
              order by carrier_seq
              limit ?) c
       ${ACTOR_JOINS}
      order by c.seq`,
    [
      carrierId,
      afterSeq,
      ...(scope?.upTo === undefined ? [] : [scope.upTo]),
      ...(narrow?.params ?? []),
      limit,
    ],
  );
  return rows.map(logEntryOf);
}

/**
 * Every carrier's entries after its cursor (the fan-out): up to `limit` per carrier, each
 * carrier's in its own commit order. A carrier with no cursor is read from its start (it
 * was created after the cursors were taken). Only carriers whose head has moved past
 * their cursor are read at all.
 */
export async function readLogAfterCursors(
  em: EntityManager,
  cursors: ReadonlyMap<string, number>,
  limit: number,
): Promise<TLogEntry[]> {
  const rows = await em.execute<TLogRow[]>(
    `select ${ENTRY_COLUMNS}, ${ENTRY_BYTES} as bytes
       from carrier_log_head h
       left join jsonb_to_recordset(?::jsonb) as cur(carrier_id uuid, after bigint)
         on cur.carrier_id = h.carrier_id
      cross join lateral (
             select ${PAGE_COLUMNS}
               from change_log
              where carrier_id = h.carrier_id and carrier_seq > coalesce(cur.after, 0)
              order by carrier_seq
              limit ?) c
       ${ACTOR_JOINS}
      where h.seq > coalesce(cur.after, 0)
      order by c.carrier_id, c.seq`,
    [
      JSON.stringify([...cursors].map(([carrierId, after]) => ({ carrier_id: carrierId, after }))),
      limit,
    ],
  );
  return rows.map(logEntryOf);
}

/**
 * Entries in the viewer's subtree, groups and cards (assignments) owned above it, the
 * viewer's own account's changes (scoped to its parent, but its people hear of them:
 * audience.ts `ownAccountDeliveries`), the cascades of resellers above it and the brands
 * of its own account and of those above it (audience.ts `brandDeliveries`: a brand
 * reaches the branded account and every account below it) — what the audience function
 * may deliver to it.
 */
function viewerScopeSql(accountPath: string): TSqlFragment {
  const inAfter = withinSql('scope_after', accountPath);
  const inBefore = withinSql('scope_before', accountPath);
  const ownedAbove = holdsSql('coalesce(scope_after, scope_before)', accountPath);
  // A path ends with its own account's id (lib/server/authz/scope.ts).
  const ownAccountId = accountPath.split('/').filter(Boolean).at(-1)!;
  // The viewer's own account or one above it (an entry naming an account by its id).
  const above = onPathSql('entity_id', accountPath);
  return {
    // A reseller above whose change cascades (audience.ts `cascadeBelowDeliveries`): its
    // entries that name lists to refetch, not every balance move it makes. A brand is
    // keyed by its account's id.
    sql: `(${inAfter.sql} or ${inBefore.sql}
           or (resource in ('groups', 'cards', 'assignments') and ${ownedAbove.sql})
           or (resource in ('resellers', 'customers') and entity_id = ?::uuid)
           or (((resource = 'resellers' and summary -> 'refetch' is not null)
                or resource = 'brands') and ${above.sql}))`,
    params: [
      ...inAfter.params,
      ...inBefore.params,
      ...ownedAbove.params,
      ownAccountId,
      ...above.params,
    ],
  };
}

/** A row as the audience function reads an entry. */
export function logEntryOf(row: TLogRow): TLogEntry {
  return {
    seq: Number(row.seq),
    carrierId: row.carrier_id,
    at: new Date(row.at),
    resource: row.resource,
    entityId: row.entity_id,
    op: row.op,
    before: row.before,
    after: row.after,
    scopeBefore: row.scope_before,
    scopeAfter: row.scope_after,
    summary: row.summary,
    audience: row.audience,
    affectsAccess: row.affects_access,
    ...(row.bytes === undefined ? {} : { bytes: Number(row.bytes) }),
    actor: {
      userId: row.actor_user_id,
      name: row.actor_name,
      email: row.actor_email,
      userPath: row.actor_user_path,
      accountName: row.actor_account_name,
      accountPath: row.actor_account_path,
    },
  };
}

/** Each carrier's newest committed position. */
export async function logHeads(em: EntityManager): Promise<Map<string, number>> {
  const rows = await em.execute<{ carrier_id: string; seq: string }[]>(
    'select carrier_id, seq from carrier_log_head',
  );
  return new Map(rows.map((row) => [row.carrier_id, Number(row.seq)]));
}
