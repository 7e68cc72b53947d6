import type { TActor } from '@/lib/server/authz/actor';
import { DomainError } from '@/lib/server/errors/domain-error';

/**
 * No escalation, by any path (DESIGN §1): a group created, edited into shape, or handed
 * to a user must hold nothing the actor does not hold itself. 403 naming the excess.
 */
export function assertNoEscalation(actor: TActor, grants: readonly string[]): void {
  const excess = grants.filter((grant) => !actor.grants.includes(grant as never));
  if (excess.length) {
    throw new DomainError(
      'forbidden',
      'escalation',
      `You cannot hand out grants you do not hold: ${excess.join(', ')}.`,
      {
        grants: excess,
      },
    );
  }
}
