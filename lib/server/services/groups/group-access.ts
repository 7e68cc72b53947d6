import type { EntityManager } from '@mikro-orm/postgresql';
import { Group, type TGroup } from '@/lib/server/entities';
import type { TActor } from '@/lib/server/authz/actor';
import { can } from '@/lib/server/authz/can';
import { scopeFor } from '@/lib/server/authz/scope';
import {
  groupRelation,
  mayAssignGroups,
  type TGroupRelation,
} from '@/lib/server/authz/group-relation';

export { mayAssignGroups, type TGroupRelation };
import { notFound } from '@/lib/server/errors/domain-error';
import { ancestorIds } from '@/lib/server/services/accounts/account-tree';

/** The groups the actor may see, with the relation to each. */
export async function visibleGroups(
  em: EntityManager,
  actor: TActor,
): Promise<{ group: TGroup; relation: TGroupRelation }[]> {
  const ors: object[] = [];
  if (can(actor, 'groups:read')) ors.push(scopeFor(actor, 'group'));
  const ancestors = ancestorIds(actor.account.path).slice(0, -1);
  if (mayAssignGroups(actor) && ancestors.length) ors.push({ account: { id: { $in: ancestors } } });
  if (ors.length === 0) return [];
  const groups = await em.find(
    Group,
    { $or: ors },
    { populate: ['account'], orderBy: { createdAt: 'asc', id: 'asc' } },
  );
  return groups.flatMap((group) => {
    const relation = groupRelation(actor, group);
    return relation ? [{ group, relation }] : [];
  });
}

/** A group by an id from the client, with the actor's relation to it, or 404. */
export async function findVisibleGroup(
  em: EntityManager,
  actor: TActor,
  unverifiedId: string,
): Promise<{ group: TGroup; relation: TGroupRelation }> {
  const group = await em.findOne(Group, { id: unverifiedId }, { populate: ['account'] });
  const relation = group ? groupRelation(actor, group) : null;
  if (!group || !relation) throw notFound('group');
  return { group, relation };
}
