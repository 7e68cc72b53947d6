import type { TGrant } from '@/lib/shared/permissions';
import { forbidden } from '@/lib/server/errors/domain-error';
import type { TActor } from './actor';

/** Whether the actor's group holds the grant. Nothing implies anything else. */
export function can(actor: TActor, grant: TGrant): boolean {
  return actor.grants.includes(grant);
}

/** Throws 403 naming the missing grant (never anything about an entity). */
export function assertCan(actor: TActor, grant: TGrant): void {
  if (!can(actor, grant)) throw forbidden(grant);
}

/** No escalation: a set of grants the actor may hand out, create or edit. */
export function isSubsetOfActor(actor: TActor, grants: readonly string[]): boolean {
  return grants.every((grant) => actor.grants.includes(grant as TGrant));
}
