import type { EntityManager } from '@mikro-orm/postgresql';
import type { TGrant } from '@/lib/shared/permissions';
import { actorsOfAccounts, type TActor } from './actor';
import { can } from './can';

/**
 * Who, among the users of these accounts, may read a subject that their account reads
 * with `grant` (a card assigned to it: `cards:read`): the users who may act at all (the
 * sign-in rule) and whose group holds the grant. Deny by default — a disabled user, one
 * without a usable group, one under a suspended account or without the grant is not a
 * recipient. The notification centre asks this for every notice it writes.
 */
export async function readersOf(
  em: EntityManager,
  accountIds: readonly string[],
  grant: TGrant,
): Promise<TActor[]> {
  const actors = await actorsOfAccounts(em, accountIds);
  return actors.filter((actor) => can(actor, grant));
}
