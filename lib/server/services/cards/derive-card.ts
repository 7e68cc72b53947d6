import type { EntityManager } from '@mikro-orm/postgresql';
import { Account, Card } from '@/lib/server/entities';
import type { TActor } from '@/lib/server/authz/actor';
import { assertCan } from '@/lib/server/authz/can';
import { heldByActorSql } from '@/lib/server/authz/card-relation';
import { conflict, invalidInput } from '@/lib/server/errors/domain-error';
import { mutate } from '@/lib/server/live/change-log';
import type { TCardDerive, TCardOwnerDto } from '@/lib/shared/schemas/cards';
import { marginAlert, rederive, refreshCounts } from '@/lib/server/services/rates/rate-sets';
import { latestRevision, liveNow } from '@/lib/server/services/rates/revisions';
import { cardChange, findVisibleCard, toCardOwnerDto } from './card-store';

/**
 * `POST /cards/{id}/derive` (DESIGN §1 "Reseller mode"): a customer card of the
 * caller's account whose rates follow `{id}` — a card the account owns or holds by
 * assignment — marked up (the connection fee too with `markupFee`), rounded the new
 * card's way, billed its own structure where it sets one, flagged where any call loses
 * money (the answer's `losingRates`, the margin report, a `cards.margin_alert`).
 */
export async function deriveCard(
  em: EntityManager,
  actor: TActor,
  unverifiedParentId: string,
  input: TCardDerive,
): Promise<TCardOwnerDto> {
  assertCan(actor, 'cards:create');
  return mutate(em, actor, async (tx, record) => {
    const { card: parent } = await findVisibleCard(tx, actor, unverifiedParentId);
    const held = heldByActorSql(actor);
    const rows = await tx.execute(
      `select 1 from card c where c.id = ? and ${held.where} for share of c`,
      [parent.id, ...held.params],
    );
    if (!rows.length) {
      throw conflict('not_held', 'Derive from a card your account owns or holds by assignment.');
    }
    await assertOverridesOnParent(tx, parent.id, input.overrides ?? []);
    const pending = await latestRevision(tx, parent.id);
    if (pending && !pending.applied_at) {
      // Its scheduled rates would pass the new card by (revisions are computed when scheduled).
      throw conflict(
        'revision_scheduled',
        `A rate revision of this card goes live at ${new Date(pending.live_at).toISOString()}; derive from it once it is live, or cancel it.`,
      );
    }
    const owner = await tx.findOneOrFail(Account, { id: actor.account.id });
    const card = tx.create(Card, {
      owner,
      name: input.name,
      currency: parent.currency,
      kind: 'customer',
      decimals: input.decimals ?? parent.decimals,
      rounding: input.rounding ?? parent.rounding,
      parent,
      markupPercent: input.markupPercent ?? null,
      markupFixed: input.markupFixed ?? null,
      overrides: input.overrides?.length ? input.overrides : null,
      billingInitialIncrement: input.initialIncrement ?? null,
      billingIncrement: input.increment ?? null,
      billingGraceSeconds: input.graceSeconds ?? null,
      markupFee: input.markupFee ?? false,
      rules: input.rules?.length ? input.rules : null,
    });
    await tx.flush();
    const rederived = await rederive(tx, card.id, { plan: liveNow('parent', actor.userId) });
    await refreshCounts(tx, card);
    const dto = toCardOwnerDto(card);
    record(cardChange(card, owner.path, 'created', null, dto, []));
    if (rederived.newlyLosing > 0) record(marginAlert(card, owner.path, dto, [], rederived));
    return dto;
  });
}

/** An override names a prefix the parent prices; anything else is a 400 naming it. */
export async function assertOverridesOnParent(
  tx: EntityManager,
  parentId: string,
  overrides: { prefix: string }[],
): Promise<void> {
  if (!overrides.length) return;
  const found = await tx.execute<{ prefix: string }[]>(
    `select distinct prefix from rate where card_id = ? and prefix = any(?::text[])`,
    [parentId, `{${overrides.map((row) => row.prefix).join(',')}}`],
  );
  const known = new Set(found.map((row) => row.prefix));
  const fields: Record<string, string> = {};
  overrides.forEach((row, index) => {
    if (!known.has(row.prefix)) {
      fields[`overrides.${index}.prefix`] = 'is not a prefix of the parent card';
    }
  });
  if (Object.keys(fields).length) throw invalidInput(fields);
}
