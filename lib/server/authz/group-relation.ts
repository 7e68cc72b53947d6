import type { FilterQuery } from '@mikro-orm/core';
import type { TAccount, TGroup } from '@/lib/server/entities';
import type { TActor } from './actor';
import { can, isSubsetOfActor } from './can';
import { aboveFilter, holdingFilter, isWithin, scopeFor } from './scope';

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
  /**
   * Reached for an edit or a delete, whose own grant (`groups:update`, `groups:delete`)
   * the caller checked: the owner relation is then the tree's alone (DESIGN §1: "edited
   * only by users of its owning account (or of an ancestor) who hold groups:update").
   */
  edit = false,
): TGroupRelation | null {
  const ownerPath = group.account.path;
  if (isWithin(actor.account.path, ownerPath)) {
    return edit || can(actor, 'groups:read') ? 'owner' : null;
  }
  if (
    isWithin(ownerPath, actor.account.path) &&
    mayAssignGroups(actor) &&
    isSubsetOfActor(actor, group.grants)
  ) {
    return 'use-only';
  }
  return null;
}

/**
 * Where the groups the actor may have a relation to live, as a query condition: owned in
 * its subtree (with `groups:read`, or for an edit), or above it (when it may assign groups); null when
 * nowhere. Part of every group query, so a group elsewhere is never loaded;
 * `groupRelation` then decides each loaded group (grants held, for use-only).
 */
export function groupScope(actor: TActor, edit = false): FilterQuery<TGroup> | null {
  const ors: FilterQuery<TGroup>[] = [];
  if (edit || can(actor, 'groups:read')) ors.push(scopeFor(actor, 'group'));
  const above = aboveFilter(actor.account.path);
  // Above: only those it could give (every grant held), as groupRelation's use-only.
  if (mayAssignGroups(actor) && above.id.$in.length) {
    ors.push({ account: above, grants: { $contained: [...actor.grants] } });
  }
  return ors.length ? { $or: ors } : null;
}

/**
 * The groups a user of `account` may have: owned by that account or by an ancestor of it
 * ("the new reseller group or an older one"), as a query condition.
 */
export function assignableGroupScope(account: Pick<TAccount, 'path'>): FilterQuery<TGroup> {
  return { account: holdingFilter(account.path) };
}
