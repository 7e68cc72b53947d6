import type { EntityManager, FilterQuery } from '@mikro-orm/postgresql';
import { Account, type TAccount } from '@/lib/server/entities';
import type { TActor } from '@/lib/server/authz/actor';
import { belowSql, onPathSql, scopeFor } from '@/lib/server/authz/scope';
import { notFound } from '@/lib/server/errors/domain-error';

export type TSubAccountKind = 'reseller' | 'customer';

/** The resellers or customers the actor may see (lib/server/authz `scopeFor`). */
export function subAccountScope(actor: TActor, kind: TSubAccountKind): FilterQuery<TAccount> {
  return scopeFor(actor, kind) as FilterQuery<TAccount>;
}

/**
 * `unverifiedId` from the client, or 404: outside scope and non-existent look alike. The
 * scope is `subAccountScope` in the subtree rule's SQL form, and the row becomes a managed
 * entity: this lookup is on every read and edit of an account, and MikroORM's processing
 * of the `$and` filter cost several times the query itself (issue 14, docs/bench.md).
 * With it, in the same statement, which accounts on its path (itself included) are
 * suspended: what its effective status needs (account-dto.ts), without a second round
 * trip.
 */
export async function findScopedAccount(
  em: EntityManager,
  actor: TActor,
  kind: TSubAccountKind,
  unverifiedId: string,
): Promise<{ account: TAccount; suspended: Set<string> }> {
  const scope = belowSql('a.path', actor.account.path);
  const onPath = onPathSql('s.id', { sql: 'a.path', params: [] });
  const [row] = await em.execute<Record<string, unknown>[]>(
    `select a.*, array(select s.id::text from account s
                        where s.status = 'suspended' and ${onPath.sql}) as suspended_on_path
       from account a where a.kind = ? and ${scope.sql} and a.id = ? limit 1`,
    [...onPath.params, kind, ...scope.params, unverifiedId],
  );
  if (!row) throw notFound(kind);
  const { suspended_on_path: suspended, ...columns } = row;
  return { account: em.map(Account, columns), suspended: new Set(suspended as string[]) };
}

/**
 * A parent for a new account: the actor's own account, or a reseller under it. Anything
 * else — another tenant, a sibling, a customer — is 404 for `parentId`.
 */
export async function findParentForNew(
  em: EntityManager,
  actor: TActor,
  unverifiedParentId: string | undefined,
): Promise<TAccount> {
  if (!unverifiedParentId || unverifiedParentId === actor.account.id) {
    return em.findOneOrFail(Account, { id: actor.account.id });
  }
  const parent = await em.findOne(Account, {
    $and: [subAccountScope(actor, 'reseller'), { id: unverifiedParentId }],
  });
  if (!parent) throw notFound('parent account');
  return parent;
}
