import type { EntityManager } from '@mikro-orm/postgresql';
import { Group, type TGroup } from '@/lib/server/entities';
import type { TActor } from '@/lib/server/authz/actor';
import {
  groupRelation,
  groupScope,
  mayAssignGroups,
  type TGroupRelation,
} from '@/lib/server/authz/group-relation';

export { mayAssignGroups, type TGroupRelation };
import { notFound } from '@/lib/server/errors/domain-error';

/**
 * A group by an id from the client, with the actor's relation to it, or 404. `edit`: for
 * an edit or a delete whose grant the caller checked — one grant per endpoint, so its
 * subtree's groups are reached without `groups:read`.
 */
export async function findVisibleGroup(
  em: EntityManager,
  actor: TActor,
  unverifiedId: string,
  options: { edit?: boolean } = {},
): Promise<{ group: TGroup; relation: TGroupRelation }> {
  const edit = options.edit ?? false;
  const scope = groupScope(actor, edit);
  // The scope is in the query: a group outside it is never loaded, let alone returned.
  const group = scope
    ? await em.findOne(Group, { $and: [scope, { id: unverifiedId }] }, { populate: ['account'] })
    : null;
  const relation = group ? groupRelation(actor, group, edit) : null;
  if (!group || !relation) throw notFound('group');
  return { group, relation };
}
