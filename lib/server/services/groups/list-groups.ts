import type { EntityManager } from '@mikro-orm/postgresql';
import type { z } from 'zod';
import type { TActor } from '@/lib/server/authz/actor';
import { Account } from '@/lib/server/entities';
import { can, isSubsetOfActor } from '@/lib/server/authz/can';
import { isWithin, scopeFor } from '@/lib/server/authz/scope';
import { forbidden, notFound } from '@/lib/server/errors/domain-error';
import { decodeKeyCursor, keyPageOf } from '@/lib/server/services/paging';
import { sortOf, type TPage } from '@/lib/shared/schemas/common';
import type { TGroupDto, TUseOnlyGroupDto, ZGroupListQuery } from '@/lib/shared/schemas/groups';
import { mayAssignGroups, visibleGroups } from './group-access';
import { toGroupDto } from './group-dto';

/** A user's account named by the client: in scope (else 404). */
async function userAccount(em: EntityManager, actor: TActor, unverifiedId: string) {
  const account = await em.findOne(Account, {
    $and: [scopeFor(actor, 'account'), { id: unverifiedId }],
  });
  if (!account) throw notFound('account');
  return account;
}

/**
 * Groups owned in the actor's subtree, then ancestors' groups it may assign (use-only),
 * or by `sort`; `q` searches names; `accountId` keeps one owner's; `assignableTo` keeps those a user of that account
 * may be given by the actor (the Add-user picker). The visible set is small (groups of a subtree and
 * its ancestors) and already read whole, so it is filtered, counted and sorted here.
 */
export async function listGroups(
  em: EntityManager,
  actor: TActor,
  query: z.input<typeof ZGroupListQuery> & { limit: number },
): Promise<TPage<TGroupDto | TUseOnlyGroupDto>> {
  if (!can(actor, 'groups:read') && !mayAssignGroups(actor)) throw forbidden('groups:read');
  const { key, dir } = sortOf(query.sort, 'createdAt');
  const sort = { name: query.sort ?? 'createdAt', dir };
  const cursor = decodeKeyCursor(query.cursor, sort);
  const needle = query.q?.toLowerCase();
  const keyOf = ({ group }: { group: { name: string; createdAt: Date } }) =>
    key === 'name' ? group.name : group.createdAt.toISOString();
  const sign = dir === 'asc' ? 1 : -1;
  const compare = (a: [string, string], b: [string, string]) =>
    sign * (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0);
  const target = query.assignableTo ? await userAccount(em, actor, query.assignableTo) : null;
  const matching = (await visibleGroups(em, actor))
    .filter(({ group }) => !needle || group.name.toLowerCase().includes(needle))
    .filter(({ group }) => !query.accountId || group.account.id === query.accountId)
    // The same rule as creating the user (findAssignableGroup): owned by the account or
    // above it, and no escalation.
    .filter(
      ({ group }) =>
        !target ||
        (isWithin(group.account.path, target.path) && isSubsetOfActor(actor, group.grants)),
    )
    .map((row) => ({ ...row, id: row.group.id }));
  // Without a sort the visible order (owned first, creation order) is kept as it was.
  if (query.sort) matching.sort((a, b) => compare([keyOf(a), a.id], [keyOf(b), b.id]));
  const start = cursor ? startAfter(cursor) : 0;
  function startAfter(at: { value: string | null; id: string }): number {
    const index = matching.findIndex((row) => row.id === at.id);
    if (index >= 0) return index + 1;
    // Its row is gone (deleted): the first one beyond its key.
    const next = matching.findIndex(
      (row) => compare([keyOf(row), row.id], [at.value ?? '', at.id]) > 0,
    );
    return next === -1 ? matching.length : next;
  }
  const page = keyPageOf(matching.slice(start), query.limit, sort, keyOf);
  return {
    items: page.items.map(({ group, relation }) => toGroupDto(group, relation)),
    nextCursor: page.nextCursor,
    total: matching.length,
  };
}
