import type { EntityManager, FilterQuery } from '@mikro-orm/postgresql';
import type { TUser } from '@/lib/server/entities';
import { resolveActor, type TActor, type TOpenView } from './actor';
import { belowFilter, isBelow } from './scope';

/**
 * Turns the real, signed-in actor into the actor it is viewing as, when it has an open,
 * unexpired impersonation whose target is still strictly below it and still allowed in.
 * The result answers every request exactly as the target's would — read-only, marked
 * with `impersonatorUserId` — so every scope check downstream stays the target's.
 * Holding `impersonation:start` is rechecked each time: losing it ends the view.
 */
export async function applyImpersonation(
  em: EntityManager,
  real: TActor,
  /** The open view-as read with the actor (lib/server/authz/actor.ts). */
  openView: TOpenView | null,
): Promise<TActor> {
  if (!real.grants.includes('impersonation:start')) return real;
  const row = openView;
  if (!row || !isBelow(real.account.path, row.target_path)) return real;
  const target = await resolveActor(em, {
    userId: row.target_user_id,
    sessionVersion: row.target_session_version,
  });
  // The target is out for now (disabled, suspended): the support user sees its own view,
  // and its sockets keep watching the target so the view returns when the target does.
  if (!target) {
    return {
      ...real,
      dormantImpersonation: {
        id: row.id,
        targetUserId: row.target_user_id,
        targetPath: row.target_path,
        targetGroupId: row.target_group_id,
      },
    };
  }
  return {
    ...target,
    impersonatorUserId: real.userId,
    impersonation: {
      id: row.id,
      impersonator: {
        id: real.userId,
        name: real.name,
        email: real.email,
        accountName: real.account.name,
      },
      reason: row.reason,
      expiresAt: new Date(row.expires_at),
    },
  };
}

/**
 * Who the actor may view as, as a query condition: users of a strictly lower account (a
 * descendant, never its own account or a peer). The same rule as `isBelow` above.
 */
export function impersonationTargetScope(actor: TActor): FilterQuery<TUser> {
  return { account: { path: belowFilter(actor.account.path) } };
}
