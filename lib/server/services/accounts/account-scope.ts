import { LockMode, type EntityManager, type FilterQuery } from '@mikro-orm/postgresql';
import { Account, type TAccount } from '@/lib/server/entities';
import type { TActor } from '@/lib/server/authz/actor';
import { belowSql, onPathSql, scopeFor, withinSql } from '@/lib/server/authz/scope';
import { invalidInput, notFound } from '@/lib/server/errors/domain-error';
import { can } from '@/lib/server/authz/can';
import { directQuery } from '@/lib/server/db/direct-query';
import type { TAccountFields } from './account-dto';

export type TSubAccountKind = 'reseller' | 'customer';

/**
 * How a write that makes something an account owns (a user, a group, a card) reads that
 * account: its row held shared until commit. A transfer holds the customer's row before
 * it reads anything of it (transfer-customer.ts `checkTransfer`), so the two never
 * interleave: what is made before the move is seen by the transfer's check, and what is
 * made after it reads the account where it now is (in the new parent's scope, or 404).
 * Only for short writes: usage rating waits on a held row (and holds its carrier's while
 * it waits), so a long one takes it last (create-assignment.ts `assertStillUnder`).
 */
export const ownerLock = LockMode.PESSIMISTIC_READ;

/** The resellers or customers the actor may see (lib/server/authz `scopeFor`). */
export function subAccountScope(actor: TActor, kind: TSubAccountKind): FilterQuery<TAccount> {
  return scopeFor(actor, kind) as FilterQuery<TAccount>;
}

/**
 * `unverifiedId` from the client, or 404: outside scope and non-existent look alike. The
 * scope is `subAccountScope` in the subtree rule's SQL form, sent straight through `pg`
 * (lib/server/db/direct-query.ts): this lookup is on every read and edit of an account,
 * and MikroORM's processing of the `$and` filter cost several times the query itself
 * (issue 14, docs/bench.md). With it, in the same statement, which accounts on its path
 * (itself included) are suspended: what its effective status needs (account-dto.ts),
 * without a second round trip. The account comes back as a plain record: a read and a
 * versioned edit need no managed entity (making one cost more than the statement).
 */
export async function readScopedAccount(
  em: EntityManager,
  actor: TActor,
  kind: TSubAccountKind,
  unverifiedId: string,
  options: { lock?: boolean } = {},
): Promise<{ account: TAccountFields; suspended: Set<string>; parentName: string }> {
  const { row, suspended, parentName } = await scopedAccountRow(
    em,
    actor,
    kind,
    unverifiedId,
    options,
  );
  return { account: accountFromRow(row), suspended, parentName };
}

/**
 * `readScopedAccount`, the account a managed entity: for an edit through the ORM. `lock`
 * holds its row until the transaction ends.
 */
export async function findScopedAccount(
  em: EntityManager,
  actor: TActor,
  kind: TSubAccountKind,
  unverifiedId: string,
  options: { lock?: boolean } = {},
): Promise<{ account: TAccount; suspended: Set<string>; parentName: string }> {
  const { row, suspended, parentName } = await scopedAccountRow(
    em,
    actor,
    kind,
    unverifiedId,
    options,
  );
  return { account: em.map(Account, row), suspended, parentName };
}

async function scopedAccountRow(
  em: EntityManager,
  actor: TActor,
  kind: TSubAccountKind | null,
  unverifiedId: string,
  options: { within?: boolean; lock?: boolean } = {},
): Promise<{ row: Record<string, unknown>; suspended: Set<string>; parentName: string }> {
  const scope = (options.within ? withinSql : belowSql)('a.path', actor.account.path);
  const onPath = onPathSql('s.id', { sql: 'a.path', params: [] });
  const [found] = await directQuery(
    em,
    `select a.*, array(select s.id::text from account s
                        where s.status = 'suspended' and ${onPath.sql}
                       union all
                       select 'credit:' || s.id::text from account s
                        where s.credit_blocked and ${onPath.sql}) as suspended_on_path,
            (select p.name from account p where p.id = a.parent_id) as parent_name_of
       from account a where ${kind ? 'a.kind = ? and ' : ''}${scope.sql} and a.id = ? limit 1
       ${options.lock ? 'for no key update of a' : ''}`,
    [...onPath.params, ...onPath.params, ...(kind ? [kind] : []), ...scope.params, unverifiedId],
  );
  if (!found) throw notFound(kind ?? 'account');
  const { suspended_on_path: suspended, parent_name_of: parentName, ...row } = found;
  return {
    row,
    suspended: new Set(suspended as string[]),
    parentName: (parentName as string | null) ?? '',
  };
}

/**
 * Any account by id in the actor's scope, whatever its kind: strictly below the actor's
 * account, or `within` (the actor's own account too). `lock` holds its row until the
 * transaction ends (the ledger's writers: one movement of an account at a time).
 */
export async function readAccountInScope(
  em: EntityManager,
  actor: TActor,
  unverifiedId: string,
  options: { within?: boolean; lock?: boolean } = {},
): Promise<{ account: TAccountFields; suspended: Set<string>; parentName: string }> {
  const { row, suspended, parentName } = await scopedAccountRow(
    em,
    actor,
    null,
    unverifiedId,
    options,
  );
  return { account: accountFromRow(row), suspended, parentName };
}

/** An account row (`select *` or `returning *`) as the fields its DTO is made of. */
export function accountFromRow(row: Record<string, unknown>): TAccountFields {
  return {
    id: row.id as string,
    kind: row.kind as TAccountFields['kind'],
    name: row.name as string,
    email: (row.email as string | null) ?? null,
    path: row.path as string,
    depth: row.depth as number,
    status: row.status as TAccountFields['status'],
    currency: row.currency as string,
    creditLimit: (row.credit_limit as string | null) ?? null,
    balance: row.balance as string,
    creditBlocked: Boolean(row.credit_blocked),
    warningThreshold: (row.warning_threshold as string | null) ?? null,
    version: row.version as number,
    // Timestamps come as text on MikroORM's connections; read as the ORM reads them.
    createdAt: new Date(row.created_at as string),
    updatedAt: new Date(row.updated_at as string),
  };
}

/**
 * A parent for a new account: the actor's own account, or a reseller under it. Anything
 * else — another tenant, a sibling — is 404 for `parentId`; a customer the actor may read
 * is 400 naming `field` (it is there, and it cannot be a parent).
 */
export async function findParentForNew(
  em: EntityManager,
  actor: TActor,
  unverifiedParentId: string | undefined,
  field = 'parentId',
): Promise<TAccount> {
  if (!unverifiedParentId || unverifiedParentId === actor.account.id) {
    return em.findOneOrFail(Account, { id: actor.account.id });
  }
  const parent = await em.findOne(Account, {
    $and: [subAccountScope(actor, 'reseller'), { id: unverifiedParentId }],
  });
  if (parent) return parent;
  const customer = can(actor, 'customers:read')
    ? await em.findOne(Account, {
        $and: [subAccountScope(actor, 'customer'), { id: unverifiedParentId }],
      })
    : null;
  if (customer) {
    throw invalidInput({ [field]: 'is a customer: a customer cannot have sub-accounts' });
  }
  throw notFound('parent account');
}
