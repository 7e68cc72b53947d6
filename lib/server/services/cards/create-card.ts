import type { EntityManager } from '@mikro-orm/postgresql';
import { Account, Card } from '@/lib/server/entities';
import { ownerLock } from '@/lib/server/services/accounts/account-scope';
import type { TActor } from '@/lib/server/authz/actor';
import { assertCan } from '@/lib/server/authz/can';
import { mutate } from '@/lib/server/live/change-log';
import type { TCardCreate, TCardOwnerDto } from '@/lib/shared/schemas/cards';
import { cardChange, toCardOwnerDto } from './card-store';

/** `POST /cards`: an empty card owned by the caller's account; rates come by PUT or CSV. */
export async function createCard(
  em: EntityManager,
  actor: TActor,
  input: TCardCreate,
): Promise<TCardOwnerDto> {
  assertCan(actor, 'cards:create');
  return mutate(em, actor, async (tx, record) => {
    const owner = await tx.findOneOrFail(
      Account,
      { id: actor.account.id },
      { lockMode: ownerLock },
    );
    const card = tx.create(Card, {
      owner,
      name: input.name,
      currency: input.currency,
      kind: input.kind,
      decimals: input.decimals,
      rounding: input.rounding,
      parent: null,
      markupPercent: null,
      markupFixed: null,
      overrides: null,
    });
    await tx.flush();
    const dto = toCardOwnerDto(card);
    record(cardChange(card, owner.path, 'created', null, dto, []));
    return dto;
  });
}
