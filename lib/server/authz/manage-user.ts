import type { TGrant } from '@/lib/shared/permissions';
import { DomainError } from '@/lib/server/errors/domain-error';
import type { TActor } from './actor';

/**
 * Why the actor may not take over a user — reset its password or MFA, disable, enable,
 * delete it or change its group (DESIGN §1 "Managing users") — or null when it may.
 * The same subset rule as assigning a group: the target's *current* group must hold
 * nothing the actor lacks, or a helpdesk user with `users:update` could reset the
 * carrier admin's password and sign in as them. Never oneself through these paths:
 * one's own password has its own door (`POST /me/password`, which asks for the current
 * one). Pure, so a table test holds it; scope (404) is decided before this.
 */
export function manageRefusal(
  actor: Pick<TActor, 'userId' | 'grants'>,
  target: TManageTarget,
): { reason: 'self' } | { reason: 'escalation'; lacking: string[] } | null {
  if (target.id === actor.userId) return { reason: 'self' };
  const lacking = target.grants.filter((grant) => !actor.grants.includes(grant as TGrant));
  if (!lacking.length) return null;
  // A group the actor may not read (one an ancestor owns) is refused without its grants:
  // `GET /groups/{id}` and the user's access answer withhold them too.
  return { reason: 'escalation', lacking: target.grantsShown ? lacking : [] };
}

/**
 * A user to take over, as the rule sees it: its group's grants, and whether the actor may
 * read that group (`groupRelation`) and so be told which of them it lacks.
 */
export interface TManageTarget {
  id: string;
  grants: readonly string[];
  grantsShown: boolean;
}

/** `manageRefusal` as the API's 403 `escalation`, naming the grants the actor lacks. */
export function assertMayManageUser(
  actor: Pick<TActor, 'userId' | 'grants'>,
  target: TManageTarget,
): void {
  const refusal = manageRefusal(actor, target);
  if (!refusal) return;
  if (refusal.reason === 'self') {
    throw new DomainError(
      'forbidden',
      'escalation',
      'You cannot reset, disable, delete or regroup your own user; change your password under your account.',
      { grants: [], self: true },
    );
  }
  throw new DomainError(
    'forbidden',
    'escalation',
    refusal.lacking.length
      ? `This user's group holds grants you do not: ${refusal.lacking.join(', ')}.`
      : "This user's group holds grants you do not.",
    { grants: refusal.lacking },
  );
}
