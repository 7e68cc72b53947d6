import type { EntityManager } from '@mikro-orm/postgresql';
import { User } from '@/lib/server/entities';
import type { TActor } from '@/lib/server/authz/actor';
import { invalidInput } from '@/lib/server/api/errors';
import { hashPassword, verifyPassword } from '@/lib/server/auth/password';
import { mutate } from '@/lib/server/live/change-log';

/** The signed-in user changes its own password (required after an admin reset). */
export async function changeOwnPassword(
  em: EntityManager,
  actor: TActor,
  input: { currentPassword: string; newPassword: string },
): Promise<void> {
  if (actor.impersonatorUserId) {
    throw invalidInput({ newPassword: 'cannot be changed while viewing as another user' });
  }
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
    record({
      resource: 'users',
      entityId: user.id,
      op: 'updated',
      version: user.version,
      before: null,
      after: null,
      scopeBefore: user.account.path,
      scopeAfter: user.account.path,
      summary: { passwordChanged: true },
    });
  });
}
