import type { EntityManager } from '@mikro-orm/postgresql';
import type { TActor } from '@/lib/server/authz/actor';
import { assertCan } from '@/lib/server/authz/can';
import { conflict, staleVersion } from '@/lib/server/errors/domain-error';
import { User } from '@/lib/server/entities';
import { hashPassword } from '@/lib/server/auth/password';
import { EMAIL_TAKEN, type TUserDto, type TUserPatch } from '@/lib/shared/schemas/users';
import { assertMayManageUser } from '@/lib/server/authz/manage-user';
import { endViewsOf } from '@/lib/server/services/impersonation/stop-impersonation';
import {
  findAssignableGroup,
  manageTargetOf,
  mutateScopedUser,
  toUserDto,
  userUpdated,
} from './user-access';

/**
 * Edits a user in scope: name, group (never none), status, its login email (a typo
 * corrected; its sessions go on), or an admin password reset (changed at next sign-in). Disabling or a reset bumps the session version: every
 * cookie and token of the user stops working on its next request. A new group does not:
 * every request and socket re-check reads the user's group afresh, so its cookies and
 * tokens carry the new group's grants at once and its sockets are re-scoped (DESIGN §2
 * "Permission changes take effect live", §3 "Tokens carry exactly the user's
 * permissions").
 * Everything but the name takes the user over, so it needs the manage rule: the user's
 * current group within the actor's grants, and never the actor itself. Renaming someone
 * else needs the same rule: a poorer user must not relabel a richer one (its name is
 * what the audit, presence and every list show of it); one's own name is one's own.
 */
export async function updateUser(
  em: EntityManager,
  actor: TActor,
  unverifiedId: string,
  patch: TUserPatch,
): Promise<TUserDto> {
  assertCan(actor, 'users:update');
  const passwordHash = patch.password ? await hashPassword(patch.password) : undefined;
  return mutateScopedUser(em, actor, unverifiedId, async (tx, record, user) => {
    const before = toUserDto(user);
    const newEmail = patch.email !== undefined && patch.email !== user.email ? patch.email : null;
    // A new login is someone's sign-in changed: the manage rule, as a reset.
    const takesOver =
      patch.groupId !== undefined || patch.status !== undefined || !!patch.password || !!newEmail;
    const renamesAnother =
      patch.name !== undefined && patch.name !== user.name && user.id !== actor.userId;
    if (takesOver || renamesAnother) assertMayManageUser(actor, manageTargetOf(actor, user));
    if (patch.version !== user.version) throw staleVersion(before);
    let revoke = false;
    let endsViews = false;
    if (patch.groupId !== undefined && patch.groupId !== user.group.id) {
      user.group = await findAssignableGroup(tx, actor, user.account, patch.groupId);
      endsViews ||= !user.group.grants.includes('impersonation:start');
    }
    if (patch.status !== undefined && patch.status !== user.status) {
      user.status = patch.status;
      revoke ||= patch.status === 'disabled';
      endsViews ||= patch.status === 'disabled';
    }
    if (passwordHash) {
      user.passwordHash = passwordHash;
      user.mustChangePassword = true;
      revoke = true;
    }
    if (patch.name !== undefined) user.name = patch.name;
    if (newEmail) {
      // Checked, then kept by the unique key (a race is the same 409, handler.ts).
      if (await tx.count(User, { email: newEmail, id: { $ne: user.id } })) {
        throw conflict('email_taken', 'A user with this email exists already.', {
          fields: { email: EMAIL_TAKEN },
        });
      }
      user.email = newEmail;
    }
    if (revoke) user.sessionVersion += 1;
    await tx.flush();
    const after = toUserDto(user);
    if (after.version !== before.version) {
      record(userUpdated(user, before, revoke ? { sessionsRevoked: true } : undefined));
    }
    // After the user's own entry: its sockets are held and re-checked at that one, so the
    // view's end (an entry to those who read the viewed account's people) is never told
    // to the person whose access this edit takes.
    if (endsViews) {
      await endViewsOf(tx, [{ userId: user.id, account: { path: user.account.path } }], record);
    }
    return after;
  });
}
