import type { EntityManager } from '@mikro-orm/postgresql';
import type { TActor } from '@/lib/server/authz/actor';
import { assertCan } from '@/lib/server/authz/can';
import { assertMayManageUser } from '@/lib/server/authz/manage-user';
import { endViewsOf, endViewsOn } from '@/lib/server/services/impersonation/stop-impersonation';
import { manageTargetOf, mutateScopedUser, toUserDto } from './user-access';

/**
 * Deletes a user in scope (its sessions and open views die with it, as do views on it):
 * never the caller itself, and only a user whose group holds nothing the caller lacks
 * (the manage rule).
 */
export async function deleteUser(
  em: EntityManager,
  actor: TActor,
  unverifiedId: string,
): Promise<void> {
  assertCan(actor, 'users:delete');
  // The user held before it is read (mutateScopedUser): the manage rule judges the group
  // it has when it goes — a delete names the row by id alone, where a PATCH carries a
  // version that would notice an edit in between.
  await mutateScopedUser(em, actor, unverifiedId, async (tx, record, user) => {
    assertMayManageUser(actor, manageTargetOf(actor, user));
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
    // After the user's own entry, as a disable does (update-user.ts): a view this person
    // had open ends with a stop recorded, which the viewed account reads; so does a view
    // someone had open on this person.
    const person = { userId: user.id, email: user.email, account: { path: user.account.path } };
    await endViewsOf(tx, [person], record);
    await endViewsOn(tx, person, record);
  });
}
