import type { EntityManager } from '@mikro-orm/postgresql';
import { User } from '@/lib/server/entities';
import type { TActor } from '@/lib/server/authz/actor';
import { assertCan } from '@/lib/server/authz/can';
import { conflict } from '@/lib/server/errors/domain-error';
import { hashPassword } from '@/lib/server/auth/password';
import { mutate } from '@/lib/server/live/change-log';
import { cutText } from '@/lib/shared/schemas/common';
import { EMAIL_TAKEN, type TUserCreate, type TUserDto } from '@/lib/shared/schemas/users';
import { findAssignableGroup, findUserAccount, toUserDto } from './user-access';

/** A new sign-in for an account in scope, with a mandatory, usable, non-escalating group. */
export async function createUser(
  em: EntityManager,
  actor: TActor,
  input: TUserCreate,
): Promise<TUserDto> {
  assertCan(actor, 'users:create');
  const passwordHash = await hashPassword(input.password);
  return mutate(em, actor, async (tx, record) => {
    const account = await findUserAccount(tx, actor, input.accountId);
    const group = await findAssignableGroup(tx, actor, account, input.groupId);
    if (await tx.count(User, { email: input.email })) {
      throw conflict('email_taken', 'A user with this email exists already.', {
        fields: { email: EMAIL_TAKEN },
      });
    }
    const user = tx.create(User, {
      id: crypto.randomUUID(),
      account,
      group,
      email: input.email,
      // A name holds 200 characters; an email's local part is not held to that.
      name: input.name ?? cutText(input.email.split('@')[0]!, 200),
      passwordHash,
    });
    await tx.flush();
    const dto = toUserDto(user);
    record({
      resource: 'users',
      entityId: user.id,
      op: 'created',
      version: user.version,
      before: null,
      after: { ...dto },
      scopeBefore: null,
      scopeAfter: account.path,
    });
    return dto;
  });
}
