import type { EntityManager } from '@mikro-orm/postgresql';
import type { TActor } from '@/lib/server/authz/actor';
import { belowSql, onPathSql, withinSql } from '@/lib/server/authz/scope';
import { notFound } from '@/lib/server/errors/domain-error';
import { directQuery } from '@/lib/server/db/direct-query';
import { ZId } from '@/lib/shared/schemas/common';

export interface TTrailAccount {
  id: string;
  kind: 'reseller' | 'customer';
  name: string;
}

/**
 * The breadcrumb of an account: the accounts on its path from just below the viewer's
 * own account down to it, itself included — only what the viewer may see (its subtree,
 * in the query), never the carrier above a reseller or a sibling. An account outside the
 * viewer's subtree is 404, like any other read; the viewer's own account has no trail.
 */
export async function accountTrail(
  em: EntityManager,
  actor: TActor,
  unverifiedAccountId: string,
): Promise<TTrailAccount[]> {
  if (unverifiedAccountId === actor.account.id) return [];
  if (!ZId.safeParse(unverifiedAccountId).success) throw notFound('account');
  const target = withinSql('t.path', actor.account.path);
  const onPath = onPathSql('a.id', { sql: 't.path', params: [] });
  const shown = belowSql('a.path', actor.account.path);
  const rows = await directQuery<TTrailAccount>(
    em,
    `select a.id::text as id, a.kind, a.name
       from account t join account a on ${onPath.sql}
      where t.id = ? and ${target.sql} and ${shown.sql}
      order by length(a.path)`,
    [...onPath.params, unverifiedAccountId, ...target.params, ...shown.params],
  );
  if (!rows.some((row) => row.id === unverifiedAccountId)) throw notFound('account');
  return rows.map(({ id, kind, name }) => ({ id, kind, name }));
}
