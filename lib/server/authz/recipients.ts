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

/**
 * Which of the actor's own notices it may still read: those whose subject it reads with a
 * grant it still holds (or none was needed). A notice was written to readers of its
 * subject (`readersOf`); once the grant is gone — the person moved to a narrower group —
 * the inbox hides it, as the outbox stops its mail (outbox-worker.ts `stillReads`), so a
 * notice never shows what the person's grants now hide. A MikroORM filter on Notification.
 */
export function readableNotices(actor: TActor) {
  return {
    user: actor.userId,
    $or: [{ readGrant: null }, { readGrant: { $in: [...actor.grants] } }],
  };
}
