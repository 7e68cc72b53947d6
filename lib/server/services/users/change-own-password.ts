import type { EntityManager } from '@mikro-orm/postgresql';
import { User } from '@/lib/server/entities';
import type { TActor } from '@/lib/server/authz/actor';
import { invalidInput } from '@/lib/server/errors/domain-error';
import { hashPassword, verifyPassword } from '@/lib/server/auth/password';
import {
  claimOwnPasswordAttemptOrRefuse,
  clearOwnPasswordAttempts,
  type TThrottlePolicy,
} from '@/lib/server/auth/throttle';
import { mutate } from '@/lib/server/live/change-log';
import type { TCredentialRef } from '@/lib/server/auth/door';
import { endOtherSessions } from '@/lib/server/auth/sessions';

/**
 * The signed-in user changes its own password (required after an admin reset). Every
 * other way in ends with the old password: the user's other sessions and its API
 * tokens — all but the credential making the change — and, through the change log entry,
 * every socket opened with them (server/revocation.ts re-checks the user's sockets).
 * Guesses at the current password are throttled per user on the sign-in curve: a
 * stolen session must not become a way to brute-force the password it lacks.
 */
export async function changeOwnPassword(
  em: EntityManager,
  actor: TActor,
  input: { currentPassword: string; newPassword: string },
  policy: TThrottlePolicy,
  credential: TCredentialRef,
): Promise<void> {
  if (actor.impersonatorUserId) {
    throw invalidInput({ newPassword: 'cannot be changed while viewing as another user' });
  }
  // Claimed (counted) before the check, in its own commit, so a refusal below keeps it.
  await claimOwnPasswordAttemptOrRefuse(
    em,
    actor.userId,
    policy,
    'Too many wrong current passwords; try again later.',
  );
  await mutate(em, actor, async (tx, record) => {
    const user = await tx.findOneOrFail(
      User,
      { id: actor.userId },
      { populate: ['passwordHash', 'account'] },
    );
    const current = user.passwordHash;
    if (!(await verifyPassword(current, input.currentPassword))) {
      throw invalidInput({ currentPassword: 'is not your current password' });
    }
    if (input.newPassword === input.currentPassword) {
      throw invalidInput({ newPassword: 'must differ from the current password' });
    }
    tx.assign(user, {
      passwordHash: await hashPassword(input.newPassword),
      mustChangePassword: false,
    });
    await tx.flush();
    // Inside the change's transaction: the count goes only if the change commits.
    await clearOwnPasswordAttempts(tx, user.id);
    const keepSession = credential.kind === 'session' ? credential.sessionId : null;
    const keepToken = credential.kind === 'token' ? credential.tokenId : null;
    const sessionsEnded = await endOtherSessions(tx, user.id, keepSession);
    const tokens = await tx.execute<{ id: string }[]>(
      'delete from api_token where user_id = ? and id is distinct from ?::uuid returning id',
      [user.id, keepToken],
    );
    record({
      resource: 'users',
      entityId: user.id,
      op: 'updated',
      version: user.version,
      before: null,
      after: null,
      scopeBefore: user.account.path,
      scopeAfter: user.account.path,
      summary: { passwordChanged: true, sessionsEnded, tokensRevoked: tokens.length },
    });
  });
}
