import type { EntityManager } from '@mikro-orm/postgresql';
import type { TActor } from './actor';
import { DomainError } from '@/lib/server/errors/domain-error';

/**
 * A write's author, judged again inside the write's transaction and held there (`for
 * key share` of its user and group rows) until it commits. The door judged the request
 * before the transaction began; a write can then wait seconds on a row another holds
 * (an import, a statement, a rating batch). An admin who disabled the author, reset its
 * password or took a grant from it meanwhile would otherwise see the write land after
 * that change, naming someone who by then could not have made it (DESIGN §2: permission
 * changes take effect at once). Held, the change and the write are ordered: such a
 * change waits for this commit, or this reads it committed and refuses.
 *
 * Taken first in the transaction, before any row the write locks: an admin's edit of a
 * user or group locks that row first as well, `for update` — the one lock a key share
 * waits for (users/user-access.ts lockScopedUser, groups/update-group.ts) — so neither
 * holds what the other waits for. The weakest lock that does: a sign-in of the same user
 * (its `last_login_at`) is not held up by the user's writes in flight. Grants gained
 * meanwhile do not matter; one lost that the actor held does.
 */
export async function assertActorStillHolds(tx: EntityManager, actor: TActor): Promise<void> {
  const rows = await tx.execute<
    { status: string; session_version: number; group_id: string; grants: string[] }[]
  >(
    `select u.status, u.session_version, u.group_id, g.grants
       from app_user u join user_group g on g.id = u.group_id
      where u.id = ? for key share of u, g`,
    [actor.userId],
  );
  const now = rows[0];
  const holds =
    now &&
    now.status === 'active' &&
    now.session_version === actor.sessionVersion &&
    now.group_id === actor.group.id &&
    actor.grants.every((grant) => now.grants.includes(grant));
  if (!holds) {
    throw new DomainError(
      'forbidden',
      'access_changed',
      'Your access changed while this was being saved; nothing was saved.',
    );
  }
}
