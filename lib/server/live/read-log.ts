import type { EntityManager } from '@mikro-orm/postgresql';
import type { TLogEntry } from '@/lib/server/authz/audience';
import { holdsSql, withinSql, type TSqlFragment } from '@/lib/server/authz/scope';
import type { TAudienceHints } from './change-log';

/** A change-log row as read with its actor's names (the fan-out, catch-up, the audit). */
export interface TLogRow {
  seq: string;
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
}

/**
 * Change-log entries after `afterSeq`, in seq (= commit) order, with what naming the
 * actor needs. `scope` narrows the read for one viewer (catch-up): entries in its
 * subtree, plus groups and cards owned above it (the use-only relation, cards assigned
 * to it); the fan-out reads all.
 * The audience function then decides exactly; this only keeps the read small.
 */
export async function readLogAfter(
  em: EntityManager,
  afterSeq: number,
  limit: number,
  scope?: { accountPath: string },
): Promise<TLogEntry[]> {
  const narrow = scope ? viewerScopeSql(scope.accountPath) : null;
  // The page is chosen first and the actor joined to its rows alone: joined before the
  // limit, every entry after `afterSeq` was joined and sorted to keep a thousand.
  const rows = await em.execute<TLogRow[]>(
    `select c.seq, c.at, c.resource, c.entity_id, c.op, c.before, c.after, c.scope_before, c.scope_after, c.summary,
            c.audience, c.affects_access, c.actor_user_id, au.name as actor_name, au.email as actor_email,
            aua.path as actor_user_path, aa.name as actor_account_name
       from (select seq, at, resource, entity_id, op, before, after, scope_before, scope_after,
                    summary, audience, affects_access, actor_user_id, actor_account_id
               from change_log
              where seq > ? ${narrow ? `and ${narrow.sql}` : ''}
              order by seq
              limit ?) c
       left join app_user au on au.id = c.actor_user_id
       left join account aua on aua.id = au.account_id
       left join account aa on aa.id = c.actor_account_id
      order by c.seq`,
    [afterSeq, ...(narrow?.params ?? []), limit],
  );
  return rows.map(logEntryOf);
}

/** Entries in the viewer's subtree, and groups and cards (assignments) owned above it. */
function viewerScopeSql(accountPath: string): TSqlFragment {
  const inAfter = withinSql('scope_after', accountPath);
  const inBefore = withinSql('scope_before', accountPath);
  const ownedAbove = holdsSql('coalesce(scope_after, scope_before)', accountPath);
  return {
    sql: `(${inAfter.sql} or ${inBefore.sql}
           or (resource in ('groups', 'cards', 'assignments') and ${ownedAbove.sql}))`,
    params: [...inAfter.params, ...inBefore.params, ...ownedAbove.params],
  };
}

/** A row as the audience function reads an entry. */
export function logEntryOf(row: TLogRow): TLogEntry {
  return {
    seq: Number(row.seq),
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
    actor: {
      userId: row.actor_user_id,
      name: row.actor_name,
      email: row.actor_email,
      userPath: row.actor_user_path,
      accountName: row.actor_account_name,
    },
  };
}

/** The newest seq committed (0 for an empty log). */
export async function logHead(em: EntityManager): Promise<number> {
  const rows = await em.execute<{ head: string | null }[]>(
    'select max(seq) as head from change_log',
  );
  return Number(rows[0]?.head ?? 0);
}

/**
 * The newest seq committed (0 for an empty log) and the oldest still inside the catch-up
 * window (null when none is), in one round trip.
 */
export async function logBounds(
  em: EntityManager,
  retentionDays: number,
): Promise<{ head: number; oldest: number | null }> {
  const rows = await em.execute<{ head: string | null; oldest: string | null }[]>(
    `select (select max(seq) from change_log) as head,
            (select min(seq) from change_log where at > now() - (? * interval '1 day')) as oldest`,
    [retentionDays],
  );
  return {
    head: Number(rows[0]?.head ?? 0),
    oldest: rows[0]?.oldest ? Number(rows[0].oldest) : null,
  };
}
