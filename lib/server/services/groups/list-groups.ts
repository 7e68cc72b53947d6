import type { EntityManager, FilterQuery } from '@mikro-orm/postgresql';
import type { z } from 'zod';
import type { TActor } from '@/lib/server/authz/actor';
import { Account, Group, type TGroup } from '@/lib/server/entities';
import { can } from '@/lib/server/authz/can';
import { escapeLike, scopeFor } from '@/lib/server/authz/scope';
import { assignableGroupScope, groupRelation, groupScope } from '@/lib/server/authz/group-relation';
import { forbidden, notFound } from '@/lib/server/errors/domain-error';
import { afterKey, decodeKeyCursor, keyPageOf, orderByKey } from '@/lib/server/services/paging';
import { sortOf, type TPage } from '@/lib/shared/schemas/common';
import type { TGroupDto, TUseOnlyGroupDto, ZGroupListQuery } from '@/lib/shared/schemas/groups';
import { mayAssignGroups } from './group-access';
import { toGroupDto } from './group-dto';

/** A user's account named by the client: in scope (else 404). */
async function userAccount(em: EntityManager, actor: TActor, unverifiedId: string) {
  const account = await em.findOne(Account, {
    $and: [scopeFor(actor, 'account'), { id: unverifiedId }],
  });
  if (!account) throw notFound('account');
  return account;
}

/** Each sort's key as the cursor holds it. */
const SORTS = {
  name: (group: TGroup) => group.name,
  createdAt: (group: TGroup) => group.createdAt.toISOString(),
} as const;

/**
 * Groups owned in the actor's subtree, then ancestors' groups it may assign (use-only),
 * in creation order or by `sort`; `q` searches names; `accountId` keeps one owner's;
 * `assignableTo` keeps those a user of that account may be given by the actor (the
 * Add-user picker). Filtered, counted and paged in SQL: a reseller may make any number
 * of groups, and every list of them above it (carrier staff, the pickers) read the whole
 * set for a page of one (20,000 groups: ~1 s a request).
 */
export async function listGroups(
  em: EntityManager,
  actor: TActor,
  query: z.input<typeof ZGroupListQuery> & { limit: number },
): Promise<TPage<TGroupDto | TUseOnlyGroupDto>> {
  if (!can(actor, 'groups:read') && !mayAssignGroups(actor)) throw forbidden('groups:read');
  const scope = groupScope(actor);
  if (!scope) return { items: [], nextCursor: null, total: 0 };
  const target = query.assignableTo ? await userAccount(em, actor, query.assignableTo) : null;
  const pattern = query.q ? `%${escapeLike(query.q)}%` : null;
  const filter = {
    $and: [
      scope,
      pattern ? { name: { $ilike: pattern } } : {},
      query.accountId ? { account: query.accountId } : {},
      // The same rule as creating the user (findAssignableGroup): owned by the account or
      // above it, and no escalation.
      target
        ? { $and: [assignableGroupScope(target), { grants: { $contained: [...actor.grants] } }] }
        : {},
    ],
  } as FilterQuery<TGroup>;
  const { key, dir } = sortOf(query.sort, 'createdAt');
  const sort = { name: query.sort ?? 'createdAt', dir };
  const byTime = key === 'createdAt';
  const cursor = decodeKeyCursor(query.cursor, sort, { value: byTime ? 'time' : 'text' });
  const read = byTime ? (value: string) => new Date(value) : undefined;
  const rows = await em.find(
    Group,
    { $and: [filter, afterKey(key, sort, cursor, read)] } as FilterQuery<TGroup>,
    { populate: ['account'], orderBy: orderByKey<TGroup>(key, sort), limit: query.limit + 1 },
  );
  const page = keyPageOf(rows, query.limit, sort, SORTS[key]);
  const total = await em.count(Group, filter);
  return {
    items: page.items.flatMap((group) => {
      // The scope above holds the relation's rule (groupScope): decided again per row
      // for its kind of view, owner or use-only.
      const relation = groupRelation(actor, group);
      return relation ? [toGroupDto(group, relation)] : [];
    }),
    nextCursor: page.nextCursor,
    total,
  };
}
