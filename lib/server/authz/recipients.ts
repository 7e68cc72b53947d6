import type { EntityManager } from '@mikro-orm/postgresql';
import type { TGrant } from '@/lib/shared/permissions';
import { actorsOfAccounts, type TActor } from './actor';
import { can } from './can';
import { isWithin, withinFilter } from './scope';

/**
 * Who, among the users of these accounts, may read a subject that their account reads
 * with `grants`, all of them (a card assigned to it: `cards:read`; a customer's credit:
 * `ledger:read` and, where the notice names it, `customers:read`), and that lies in their
 * part of the tree (`subjectPath`, when the subject is an account): the users who may
 * act at all (the sign-in rule) and whose group holds the grants. Deny by default — a
 * disabled user, one without a usable group, one under a suspended account or without a
 * grant is not a recipient. The notification centre asks this for every notice it
 * writes, and the outbox again before each mail.
 */
export async function readersOf(
  em: EntityManager,
  accountIds: readonly string[],
  grants: readonly TGrant[],
  subjectPath: string | null = null,
): Promise<TActor[]> {
  const actors = await actorsOfAccounts(em, accountIds);
  return actors.filter(
    (actor) =>
      grants.every((grant) => can(actor, grant)) &&
      (subjectPath === null || isWithin(actor.account.path, subjectPath)),
  );
}

/**
 * Which of the actor's own notices it may still read: those whose subject it reads with
 * grants it still holds (or none was needed) and, for a notice about an account, while
 * that account is in its part of the tree. A notice was written to readers of its subject
 * (`readersOf`); once a grant is gone — the person moved to a narrower group — or the
 * account moved away — a customer transferred to another reseller — the inbox hides it,
 * as the outbox stops its mail (outbox-worker.ts `stillReads`), so a notice never shows
 * what the person may no longer read. A MikroORM filter on Notification.
 */
export function readableNotices(actor: TActor) {
  return {
    user: actor.userId,
    readGrants: { $contained: [...actor.grants] },
    $or: [{ subjectAccount: null }, { subjectAccount: { path: withinFilter(actor.account.path) } }],
  };
}
