import type { EntityManager } from '@mikro-orm/postgresql';
import { Group, type TGroup } from '@/lib/server/entities';
import type { TActor } from '@/lib/server/authz/actor';
import { can, isSubsetOfActor } from '@/lib/server/authz/can';
import { isWithin, subtreePattern } from '@/lib/server/authz/scope';
import { notFound } from '@/lib/server/api/errors';
import { ancestorIds } from '@/lib/server/services/accounts/account-tree';

/**
 * Two relations to a group (DESIGN §1):
 * - *owner*: the group's account is the actor's own or under it — full view, editable
 *   with `groups:update`;
 * - *use-only*: the group belongs to an ancestor of the actor's account — its name and
 *   grants are visible to actors who may assign it: `users:create`/`users:update` and
 *   every grant of the group held by the actor (no escalation).
 */
export type TGroupRelation = 'owner' | 'use-only';

export function mayAssignGroups(actor: TActor): boolean {
  return can(actor, 'users:create') || can(actor, 'users:update');
}

export function relationTo(actor: TActor, group: TGroup): TGroupRelation | null {
  const ownerPath = group.account.path;
  if (isWithin(actor.account.path, ownerPath)) return can(actor, 'groups:read') ? 'owner' : null;
  if (
    actor.account.path.startsWith(ownerPath) &&
    mayAssignGroups(actor) &&
    isSubsetOfActor(actor, group.grants)
  ) {
    return 'use-only';
  }
  return null;
}

/** The groups the actor may see, with the relation to each. */
export async function visibleGroups(
  em: EntityManager,
  actor: TActor,
): Promise<{ group: TGroup; relation: TGroupRelation }[]> {
  const ors: object[] = [];
  if (can(actor, 'groups:read')) ors.push({ account: { path: { $like: subtreePattern(actor) } } });
  const ancestors = ancestorIds(actor.account.path).slice(0, -1);
  if (mayAssignGroups(actor) && ancestors.length) ors.push({ account: { id: { $in: ancestors } } });
  if (ors.length === 0) return [];
  const groups = await em.find(
    Group,
    { $or: ors },
    { populate: ['account'], orderBy: { createdAt: 'asc', id: 'asc' } },
  );
  return groups.flatMap((group) => {
    const relation = relationTo(actor, group);
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
  const relation = group ? relationTo(actor, group) : null;
  if (!group || !relation) throw notFound('group');
  return { group, relation };
}
