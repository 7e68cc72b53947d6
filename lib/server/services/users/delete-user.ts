import type { EntityManager } from '@mikro-orm/postgresql';
import type { TActor } from '@/lib/server/authz/actor';
import { assertCan } from '@/lib/server/authz/can';
import { assertMayManageUser } from '@/lib/server/authz/manage-user';
import { mutate } from '@/lib/server/live/change-log';
import { findScopedUser, lockScopedUser, toUserDto } from './user-access';

/**
 * Deletes a user in scope (its sessions die with it): never the caller itself, and only
 * a user whose group holds nothing the caller lacks (the manage rule).
 */
export async function deleteUser(
  em: EntityManager,
  actor: TActor,
  unverifiedId: string,
): Promise<void> {
  assertCan(actor, 'users:delete');
  await mutate(
    em,
    actor,
    async (tx, record) => {
      // The row held before it is read: the manage rule judges the group the user has when
      // it goes, not one read before an edit that gave it a richer group (a delete names
      // the row by id alone, so it would not notice that edit; a PATCH carries a version).
      await lockScopedUser(tx, actor, unverifiedId);
      const user = await findScopedUser(tx, actor, unverifiedId);
      assertMayManageUser(actor, { id: user.id, grants: user.group.grants });
      const before = toUserDto(user);
      tx.remove(user);
      record({
        resource: 'users',
        entityId: user.id,
        op: 'deleted',
        version: user.version,
        before: { ...before },
        after: null,
        scopeBefore: user.account.path,
        scopeAfter: null,
      });
    },
    { revokes: [unverifiedId] },
  );
}
