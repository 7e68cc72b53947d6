import type { EntityManager } from '@mikro-orm/postgresql';
import type { TActor } from '@/lib/server/authz/actor';
import { assertCan } from '@/lib/server/authz/can';
import { manageRefusal } from '@/lib/server/authz/manage-user';
import type { TUserManageability } from '@/lib/shared/schemas/users';
import { findScopedUser, manageTargetOf } from './user-access';

/**
 * Whether the actor may take this user over (reset, disable, enable, delete, regroup):
 * the manage rule itself answers, so the panel hides exactly what the server refuses.
 * The grants named are those a refusal would name (403 `escalation`): none of a group the
 * actor may not read.
 */
export async function userManageability(
  em: EntityManager,
  actor: TActor,
  unverifiedId: string,
): Promise<TUserManageability> {
  assertCan(actor, 'users:read');
  const user = await findScopedUser(em, actor, unverifiedId);
  const refusal = manageRefusal(actor, manageTargetOf(actor, user));
  if (!refusal) return { userId: user.id, manageable: true, reason: null, lacking: [] };
  return {
    userId: user.id,
    manageable: false,
    reason: refusal.reason,
    lacking: refusal.reason === 'escalation' ? refusal.lacking : [],
  };
}
