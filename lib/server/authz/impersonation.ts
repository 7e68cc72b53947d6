import type { EntityManager } from '@mikro-orm/postgresql';
import { resolveActor, type TActor } from './actor';

interface TOpenImpersonationRow {
  id: string;
  target_user_id: string;
  target_session_version: number;
  reason: string;
  expires_at: Date;
  target_path: string;
}

/**
 * Turns the real, signed-in actor into the actor it is viewing as, when it has an open,
 * unexpired impersonation whose target is still strictly below it and still allowed in.
 * The result answers every request exactly as the target's would — read-only, marked
 * with `impersonatorUserId` — so every scope check downstream stays the target's.
 * Holding `impersonation:start` is rechecked each time: losing it ends the view.
 */
export async function applyImpersonation(em: EntityManager, real: TActor): Promise<TActor> {
  if (!real.grants.includes('impersonation:start')) return real;
  const rows = await em.execute<TOpenImpersonationRow[]>(
    `select i.id, i.target_user_id, u.session_version as target_session_version, i.reason,
            i.expires_at, a.path as target_path
       from impersonation i
       join app_user u on u.id = i.target_user_id
       join account a on a.id = u.account_id
      where i.impersonator_user_id = ? and i.ended_at is null and i.expires_at > now()
      order by i.started_at desc limit 1`,
    [real.userId],
  );
  const row = rows[0];
  if (!row || !isStrictlyBelow(real.account.path, row.target_path)) return real;
  const target = await resolveActor(em, {
    userId: row.target_user_id,
    sessionVersion: row.target_session_version,
  });
  // The target is out for now (disabled, suspended): the support user sees its own view,
  // and its sockets keep watching the target so the view returns when the target does.
  if (!target) {
    return {
      ...real,
      dormantImpersonation: { targetUserId: row.target_user_id, targetPath: row.target_path },
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

/** A strictly lower account: a descendant, never the same account or a peer. */
export function isStrictlyBelow(viewerPath: string, targetPath: string): boolean {
  return targetPath.startsWith(viewerPath) && targetPath !== viewerPath;
}
