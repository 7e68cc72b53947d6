import type { EntityManager } from '@mikro-orm/postgresql';
import type { TActor } from '@/lib/server/authz/actor';
import { assertCan, can } from '@/lib/server/authz/can';
import { DomainError, forbidden } from '@/lib/server/errors/domain-error';
import { getSubAccount } from '@/lib/server/services/accounts/get-sub-account';
import { findScopedUser } from '@/lib/server/services/users/user-access';
import { findVisibleGroup } from '@/lib/server/services/groups/group-access';
import { findVisibleCard } from '@/lib/server/services/cards/card-store';
import { mayAssignGroups } from '@/lib/server/authz/group-relation';
import type { TPresenceTopic } from '@/lib/shared/live/presence';

/**
 * The Socket.IO room of a presence topic for this actor, after the same check as a
 * `GET` of that record (so presence never confirms that a record outside scope exists),
 * or a DomainError (`forbidden` / `not_found`). A page topic is per account, and so is a card's for the
 * accounts it is assigned to and a group's for the accounts below its owner.
 */
export async function presenceRoomFor(
  em: EntityManager,
  actor: TActor,
  topic: TPresenceTopic,
): Promise<string> {
  const [kind, id] = topic.split(':') as [string, string];
  if (kind === 'page') {
    if (id !== 'overview' && !can(actor, `${id}:read` as never) && !pageOpen(actor, id)) {
      throw forbidden(`${id}:read`);
    }
    return `presence:${actor.account.id}:${topic}`;
  }
  switch (kind) {
    case 'resellers':
    case 'customers':
      await getSubAccount(em, actor, kind === 'resellers' ? 'reseller' : 'customer', id);
      break;
    case 'users':
      assertCan(actor, 'users:read');
      await findScopedUser(em, actor, id);
      break;
    case 'groups': {
      const { relation } = await findVisibleGroup(em, actor, id);
      // A group above the viewer, which it may only give out, is used by every account
      // below its owner: siblings sharing one room would name each other. As for a card,
      // each such account has its own room.
      return relation === 'owner' ? `presence:${topic}` : `presence:${actor.account.id}:${topic}`;
    }
    case 'cards': {
      assertCan(actor, 'cards:read');
      const { relation } = await findVisibleCard(em, actor, id);
      // The owner side shares one room; each holder account has its own, so a holder
      // never learns which other accounts hold the same card (DESIGN §1).
      return relation === 'owner' ? `presence:${topic}` : `presence:${actor.account.id}:${topic}`;
    }
    default:
      throw new DomainError('invalid_input', 'invalid_input', 'Unknown presence topic.');
  }
  return `presence:${topic}`;
}

/** The groups page also opens to those who may only assign groups. */
function pageOpen(actor: TActor, page: string): boolean {
  return page === 'groups' && mayAssignGroups(actor);
}
