import type { EntityManager } from '@mikro-orm/postgresql';
import type { TActor } from '@/lib/server/authz/actor';
import { logEntryOf, type TLogRow } from '@/lib/server/live/read-log';
import { assertCan, can } from '@/lib/server/authz/can';
import { nameActor } from '@/lib/server/authz/actor-name';
import { auditViewOf, roomsOf } from '@/lib/server/authz/audience';
import { carrierIdOf, isWithin, withinSql } from '@/lib/server/authz/scope';
import { csvStream, type TDownload } from '@/lib/server/services/csv';
import { activitySentence } from '@/lib/shared/activity-sentence';
import { notFound } from '@/lib/server/errors/domain-error';
import { decodeKeyCursor, encodeKeyCursor, windowSql } from '@/lib/server/services/paging';
import { sortOf, type TPage } from '@/lib/shared/schemas/common';
import {
  AUDIT_CSV_COLUMNS,
  type TAuditEntryDto,
  type TAuditExportQuery,
  type TAuditQuery,
} from '@/lib/shared/schemas/audit';

/** A log row with the audit's extras: the entity's version and who impersonated. */
interface TAuditRow extends TLogRow {
  version: number | null;
  imp_user_id: string | null;
  imp_name: string | null;
  imp_email: string | null;
  imp_user_path: string | null;
  imp_account_name: string | null;
  imp_account_path: string | null;
}

/** An audit cursor's row key: the entry's position in its carrier's log. */
const isPosition = (id: unknown) => typeof id === 'string' && /^[1-9]\d{0,17}$/.test(id);

/**
 * The audit trail within scope: change-log rows whose entity was in the actor's subtree
 * before or after the change, newest first (or by `sort`), paged by its carrier's
 * positions, with the total matching. The same scope rule as every
 * other read; people are named only to viewers who may read them, and what changed is
 * shown as the live fan-out would show it to this viewer (`auditViewOf`), else withheld.
 */
export async function listAudit(
  em: EntityManager,
  actor: TActor,
  query: TAuditQuery,
): Promise<TPage<TAuditEntryDto>> {
  assertCan(actor, 'audit:read');
  const sort = { name: query.sort ?? '-at', ...sortOf(query.sort ?? '-at', 'at') };
  const cursor = decodeKeyCursor(query.cursor, sort, { isId: isPosition });
  const { filters, params } = await auditFilter(em, actor, query);
  const [counted] = await em.execute<{ total: string }[]>(
    `select count(*) as total from change_log c where ${filters.join(' and ')}`,
    params,
  );
  // By resource, the newest first within each; by time, in the order of the positions.
  const seqDir = sort.key === 'resource' ? 'desc' : sort.dir;
  if (cursor) {
    const beyond = seqDir === 'asc' ? '>' : '<';
    if (sort.key === 'resource') {
      filters.push(
        `(c.resource ${sort.dir === 'asc' ? '>' : '<'} ? or (c.resource = ? and c.carrier_seq ${beyond} ?))`,
      );
      params.push(cursor.value, cursor.value, cursor.id);
    } else {
      filters.push(`c.carrier_seq ${beyond} ?`);
      params.push(cursor.id);
    }
  }
  const orderBy =
    sort.key === 'resource'
      ? `c.resource ${sort.dir}, c.carrier_seq desc`
      : `c.carrier_seq ${seqDir}`;
  params.push(query.limit + 1);

  const rows = await readAuditRows(em, filters, orderBy, params);
  const rooms = new Set(roomsOf(actor));
  const items = rows.slice(0, query.limit).map((row) => toAuditDto(actor, row, rooms));
  const last = items[items.length - 1];
  return {
    items,
    nextCursor:
      rows.length > query.limit && last
        ? encodeKeyCursor(sort, sort.key === 'resource' ? last.resource : null, String(last.seq))
        : null,
    total: Number(counted?.total ?? 0),
  };
}

/**
 * `GET /audit/export`: the entries `GET /audit` lists with the same filters, as CSV, oldest
 * first, each as the viewer may see it (the same projection: a withheld entry's before and
 * after stay empty). Scope and filters are decided before the first byte; the last entry
 * is fixed then (positions are given in commit order, so nothing lands behind the reader).
 */
export async function exportAudit(
  em: EntityManager,
  actor: TActor,
  query: TAuditExportQuery,
  download: TDownload,
): Promise<ReadableStream<Uint8Array>> {
  assertCan(actor, 'audit:read');
  const { filters, params } = await auditFilter(em, actor, query);
  const [ceiling] = await em.execute<{ last: string | null }[]>(
    `select max(c.carrier_seq)::text as last from change_log c where ${filters.join(' and ')}`,
    params,
  );
  const last = ceiling?.last ?? '0';
  const rooms = new Set(roomsOf(actor));
  let after = '0';
  return csvStream(
    AUDIT_CSV_COLUMNS,
    async () => {
      if (after === last) return null;
      const rows = await readAuditRows(
        em,
        [...filters, 'c.carrier_seq > ?::bigint', 'c.carrier_seq <= ?::bigint'],
        'c.carrier_seq asc',
        [...params, after, last, download.batch ?? EXPORT_BATCH],
      );
      if (!rows.length) return null;
      after = String(rows.at(-1)!.seq);
      return rows.map((row) => auditCsvRow(toAuditDto(actor, row, rooms)));
    },
    download.stillAllowed,
  );
}

const EXPORT_BATCH = 500;

/** One entry as the export's row: people by name and email, the change as JSON. */
function auditCsvRow(entry: TAuditEntryDto): Record<(typeof AUDIT_CSV_COLUMNS)[number], unknown> {
  const json = (value: unknown) => (value === null ? '' : JSON.stringify(value));
  return {
    seq: entry.seq,
    at: entry.at,
    resource: entry.resource,
    entityId: entry.entityId,
    op: entry.op,
    version: entry.version,
    description: activitySentence(entry),
    actor: entry.actor.name,
    actorEmail: entry.actor.kind === 'user' ? entry.actor.email : '',
    impersonator: entry.impersonator?.name ?? '',
    impersonatorEmail: entry.impersonator?.kind === 'user' ? entry.impersonator.email : '',
    detail: entry.detail,
    before: json(entry.before),
    after: json(entry.after),
  };
}

/**
 * The SQL of the audit's scope and filters: change-log rows of the actor's carrier whose
 * entity was in its subtree before or after the change. `accountId` must be in scope and
 * `actorId` a user the viewer may read (else 404, as `GET` of either would be).
 */
async function auditFilter(
  em: EntityManager,
  actor: TActor,
  query: TAuditExportQuery,
): Promise<{ filters: string[]; params: unknown[] }> {
  const inAfter = withinSql('c.scope_after', actor.account.path);
  const inBefore = withinSql('c.scope_before', actor.account.path);
  // Everything in scope is in the actor's carrier: its positions page the trail.
  // A person's notices are logged only to reach them live: they are no one's audit.
  const filters: string[] = [
    'c.carrier_id = ?',
    `(${inAfter.sql} or ${inBefore.sql})`,
    `c.resource <> 'notifications'`,
  ];
  const params: unknown[] = [
    carrierIdOf(actor.account.path),
    ...inAfter.params,
    ...inBefore.params,
  ];
  if (query.resource) {
    filters.push('c.resource = ?');
    params.push(query.resource);
  }
  if (query.entityId) {
    filters.push('c.entity_id = ?');
    params.push(query.entityId);
  }
  if (query.op) {
    filters.push('c.op = ?');
    params.push(query.op);
  }
  const window = windowSql('c.at', query);
  filters.push(...window.conditions);
  params.push(...window.params);
  if (query.actorId) {
    // Only someone the audit would name to this viewer: filtering by anyone else would
    // tell which entries were theirs where the rows themselves name only an account.
    await assertNameableUser(em, actor, query.actorId);
    filters.push('(c.actor_user_id = ? or c.impersonator_user_id = ?)');
    params.push(query.actorId, query.actorId);
  }
  if (query.accountId) {
    // The account's own changes (logged at its parent's scope), its subtree's, and the
    // cards assigned to it or taken from it (logged at the owner's scope, naming it as
    // the holder in their routing hints).
    const path = await accountPathInScope(em, actor, query.accountId);
    const subAfter = withinSql('c.scope_after', path);
    const subBefore = withinSql('c.scope_before', path);
    filters.push(
      `(c.entity_id = ? or ${subAfter.sql} or ${subBefore.sql}` +
        ` or (c.resource = 'assignments' and c.audience ->> 'holder' = ?))`,
    );
    params.push(query.accountId, ...subAfter.params, ...subBefore.params, query.accountId);
  }
  return { filters, params };
}

/** Audit rows with the names of who acted and who viewed as them, in `orderBy`. */
function readAuditRows(
  em: EntityManager,
  filters: string[],
  orderBy: string,
  params: unknown[],
): Promise<TAuditRow[]> {
  return em.execute<TAuditRow[]>(
    `select c.carrier_seq as seq, c.carrier_id, c.at, c.resource, c.entity_id, c.op, c.version, c.before, c.after, c.summary,
            c.audience, c.affects_access, c.scope_before, c.scope_after,
            c.actor_user_id, au.name as actor_name, au.email as actor_email,
            aua.path as actor_user_path, aa.name as actor_account_name, aa.path as actor_account_path,
            c.impersonator_user_id as imp_user_id, iu.name as imp_name, iu.email as imp_email,
            iua.path as imp_user_path, ia.name as imp_account_name,
            ia.path as imp_account_path
       from change_log c
       left join app_user au on au.id = c.actor_user_id
       left join account aua on aua.id = au.account_id
       left join account aa on aa.id = c.actor_account_id
       left join app_user iu on iu.id = c.impersonator_user_id
       left join account iua on iua.id = iu.account_id
       left join account ia on ia.id = iu.account_id
      where ${filters.join(' and ')}
      order by ${orderBy}
      limit ?`,
    params,
  );
}

/** A user the audit names to this viewer (`mayNamePeopleAt`), or 404. */
async function assertNameableUser(
  em: EntityManager,
  actor: TActor,
  unverifiedId: string,
): Promise<void> {
  const [row] = can(actor, 'users:read')
    ? await em.execute<{ path: string }[]>(
        `select a.path from app_user u join account a on a.id = u.account_id where u.id = ?`,
        [unverifiedId],
      )
    : [];
  if (!row || !isWithin(actor.account.path, row.path)) throw notFound('user');
}

/** The path of an account in the actor's subtree (its own included), or 404. */
async function accountPathInScope(
  em: EntityManager,
  actor: TActor,
  unverifiedId: string,
): Promise<string> {
  const scope = withinSql('a.path', actor.account.path);
  const [row] = await em.execute<{ path: string }[]>(
    `select a.path from account a where a.id = ? and ${scope.sql}`,
    [unverifiedId, ...scope.params],
  );
  if (!row) throw notFound('account');
  return row.path;
}

function toAuditDto(viewer: TActor, row: TAuditRow, rooms: ReadonlySet<string>): TAuditEntryDto {
  const entry = logEntryOf(row);
  const actor = entry.actor;
  // An entity that moved into or out of the viewer's subtree (a transferred customer)
  // shows only the side that was in view: not where it went, nor where it came from.
  const view = auditViewOf(viewer, entry, rooms);
  return {
    seq: Number(row.seq),
    at: new Date(row.at).toISOString(),
    resource: row.resource,
    entityId: row.entity_id,
    op: row.op,
    version: row.version,
    actor: nameActor(viewer, actor),
    impersonator: row.imp_user_id
      ? nameActor(viewer, {
          userId: row.imp_user_id,
          name: row.imp_name,
          email: row.imp_email,
          userPath: row.imp_user_path,
          accountName: row.imp_account_name,
          accountPath: row.imp_account_path,
        })
      : null,
    ...view,
  };
}
