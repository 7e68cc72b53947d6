import type { TActor } from './actor';
import { can, isSubsetOfActor } from './can';
import { isWithin } from './scope';

/**
 * Two relations to a group (DESIGN §1):
 * - *owner*: the group's account is the actor's own or under it — full view with
 *   `groups:read`, editable with `groups:update`;
 * - *use-only*: the group belongs to an ancestor of the actor's account — its name and
 *   grants are visible to actors who may assign it: `users:create`/`users:update` and
 *   every grant of the group held by the actor (no escalation).
 * Anything else: no relation, so 404.
 */
export type TGroupRelation = 'owner' | 'use-only';

export function mayAssignGroups(actor: TActor): boolean {
  return can(actor, 'users:create') || can(actor, 'users:update');
}

export function groupRelation(
  actor: TActor,
  group: { grants: string[]; account: { path: string } },
): TGroupRelation | null {
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
