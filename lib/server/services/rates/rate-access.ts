import type { EntityManager } from '@mikro-orm/postgresql';
import type { TActor } from '@/lib/server/authz/actor';
import { assertCan } from '@/lib/server/authz/can';
import { conflict } from '@/lib/server/errors/domain-error';
import {
  assertOwnerSide,
  findVisibleCard,
  type TVisibleCard,
} from '@/lib/server/services/cards/card-store';

/** A card whose rates the actor may read: owner's side or assignee (`rates:read`). */
export async function findCardForRates(
  em: EntityManager,
  actor: TActor,
  unverifiedId: string,
): Promise<TVisibleCard> {
  assertCan(actor, 'rates:read');
  return findVisibleCard(em, actor, unverifiedId);
}

/**
 * A card whose rate set the actor may replace: the owner's side (`rates:update`), not a
 * derived card — its rates follow its parent (edit the markup or overrides instead).
 * Locked for the transaction, so two writers of one card queue.
 */
export async function findCardForRateWrite(
  tx: EntityManager,
  actor: TActor,
  unverifiedId: string,
): Promise<TVisibleCard> {
  assertCan(actor, 'rates:update');
  const visible = await findVisibleCard(tx, actor, unverifiedId, { lock: true });
  assertOwnerSide(visible.relation, 'changes its rates');
  if (visible.card.parent) {
    throw conflict(
      'derived_card',
      "A derived card's rates follow its parent; change its markup or overrides instead.",
    );
  }
  return visible;
}
