import type { EntityManager } from '@mikro-orm/postgresql';
import type { TActor } from '@/lib/server/authz/actor';
import { logEntryOf, type TLogRow } from '@/lib/server/live/read-log';
import { assertCan } from '@/lib/server/authz/can';
import { nameActor } from '@/lib/server/authz/actor-name';
import { auditViewOf, roomsOf } from '@/lib/server/authz/audience';
import { carrierIdOf, withinSql } from '@/lib/server/authz/scope';
import { notFound } from '@/lib/server/errors/domain-error';
import { decodeKeyCursor, encodeKeyCursor } from '@/lib/server/services/paging';
import { sortOf, type TPage } from '@/lib/shared/schemas/common';
import type { TAuditEntryDto, TAuditQuery } from '@/lib/shared/schemas/audit';

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

  const rows = await em.execute<TAuditRow[]>(
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
