import type { EntityManager } from '@mikro-orm/postgresql';
import type { TActor } from '@/lib/server/authz/actor';
import { assertCan } from '@/lib/server/authz/can';
import { dependantsFor } from '@/lib/server/authz/dependants';
import { DomainError, conflict, notFound } from '@/lib/server/errors/domain-error';
import { mutate } from '@/lib/server/live/change-log';
import { findVisibleGroup } from './group-access';
import { assertNoEscalation } from './no-escalation';
import { toGroupDto } from './group-dto';

/**
 * Deletes a group nobody uses; a group in use is 409 listing its users (first 20; to a
 * caller who may not read users, only that there are some). Like
 * an edit, only by someone holding every grant it holds (DESIGN §1 "No escalation"): a
 * group prepared by a richer user is not destroyed by a poorer one.
 */
export async function deleteGroup(
  em: EntityManager,
  actor: TActor,
  unverifiedId: string,
): Promise<void> {
  assertCan(actor, 'groups:delete');
  await mutate(em, actor, async (tx, record) => {
    const { group, relation } = await findVisibleGroup(tx, actor, unverifiedId, { edit: true });
    // Held, then read again: an edit that widened it while this ran is judged as it is
    // now, not as it was read (a poorer user must not delete what a richer one prepared).
    await tx.execute('select 1 from user_group where id = ? for update', [group.id]);
    if (!(await tx.refresh(group))) throw notFound('group');
    if (relation !== 'owner') {
      throw new DomainError(
        'forbidden',
        'use_only',
        "An ancestor account's group can be used, not deleted.",
      );
    }
    assertNoEscalation(actor, group.grants);
    const users = await tx.execute<{ id: string; email: string }[]>(
      'select id, email from app_user where group_id = ? order by email limit 20',
      [group.id],
    );
    if (users.length) {
      // Named only to a caller who reads users: a keeper of groups without `users:read`
      // learns that people hold it, not who.
      throw conflict('group_in_use', 'Users still have this group; give them another one first.', {
        dependants: dependantsFor(
          actor,
          users.map((user) => ({ resource: 'users', id: user.id, name: user.email })),
        ),
      });
    }
    const before = toGroupDto(group, 'owner');
    tx.remove(group);
    record({
      resource: 'groups',
      entityId: group.id,
      op: 'deleted',
      version: group.version,
      before: { ...before },
      after: null,
      scopeBefore: group.account.path,
      scopeAfter: null,
    });
  });
}
