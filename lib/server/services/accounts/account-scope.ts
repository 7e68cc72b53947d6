import type { EntityManager, FilterQuery } from '@mikro-orm/postgresql';
import { Account, type TAccount } from '@/lib/server/entities';
import type { TActor } from '@/lib/server/authz/actor';
import { belowSql, onPathOfSql, scopeFor } from '@/lib/server/authz/scope';
import { notFound } from '@/lib/server/errors/domain-error';

export type TSubAccountKind = 'reseller' | 'customer';

/** The resellers or customers the actor may see (lib/server/authz `scopeFor`). */
export function subAccountScope(actor: TActor, kind: TSubAccountKind): FilterQuery<TAccount> {
  return scopeFor(actor, kind) as FilterQuery<TAccount>;
}

/**
 * `findScopedAccount` and, in the same statement, which accounts on its path (itself
 * included) are suspended — what its effective status needs (account-dto.ts
 * `suspendedAncestors`), without a second round trip on every read and edit.
 */
export async function findScopedAccountWithSuspended(
  em: EntityManager,
  actor: TActor,
  kind: TSubAccountKind,
  unverifiedId: string,
): Promise<{ account: TAccount; suspended: Set<string> }> {
  const scope = belowSql('a.path', actor.account.path);
  const onPath = onPathOfSql('s.id', { sql: 'a.path', params: [] });
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
 * `unverifiedId` from the client, or 404: outside scope and non-existent look alike. The
 * scope is `subAccountScope` in the subtree rule's SQL form, and the row becomes a managed
 * entity: this lookup is on every read and edit of an account, and MikroORM's processing
 * of the `$and` filter cost several times the query itself (issue 14, docs/bench.md).
 */
export async function findScopedAccount(
  em: EntityManager,
  actor: TActor,
  kind: TSubAccountKind,
  unverifiedId: string,
): Promise<TAccount> {
  const scope = belowSql('path', actor.account.path);
  const [row] = await em.execute<Record<string, unknown>[]>(
    `select * from account where kind = ? and ${scope.sql} and id = ? limit 1`,
    [kind, ...scope.params, unverifiedId],
  );
  if (!row) throw notFound(kind);
  return em.map(Account, row);
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
