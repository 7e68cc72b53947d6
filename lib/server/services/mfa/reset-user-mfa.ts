import type { EntityManager } from '@mikro-orm/postgresql';
import type { TActor } from '@/lib/server/authz/actor';
import { assertCan } from '@/lib/server/authz/can';
import { assertMayManageUser } from '@/lib/server/authz/manage-user';
import { conflict } from '@/lib/server/errors/domain-error';
import {
  manageTargetOf,
  mutateScopedUser,
  toUserDto,
  userUpdated,
} from '@/lib/server/services/users/user-access';
import type { TUserDto } from '@/lib/shared/schemas/users';
import { clearMfa } from './own-mfa';

/**
 * An admin's MFA reset (a lost phone): the user signs in with the password alone and
 * enrols again (at once, if its group requires MFA). It takes the user over like a
 * password reset, so the same manage rule applies, and every session of the user ends.
 */
export async function resetUserMfa(
  em: EntityManager,
  actor: TActor,
  unverifiedId: string,
): Promise<TUserDto> {
  assertCan(actor, 'users:update');
  return mutateScopedUser(em, actor, unverifiedId, async (tx, record, user) => {
    assertMayManageUser(actor, manageTargetOf(actor, user));
    await tx.populate(user, ['mfaSecret', 'mfaPendingSecret', 'mfaRecoveryCodes']);
    if (!user.mfaEnabledAt && !user.mfaPendingSecret) {
      throw conflict('mfa_not_enabled', 'This user has no MFA to reset.');
    }
    const before = toUserDto(user);
    clearMfa(user);
    user.sessionVersion += 1;
    await tx.flush();
    record(userUpdated(user, before, { mfa: 'reset', sessionsRevoked: true }));
    return toUserDto(user);
  });
}
