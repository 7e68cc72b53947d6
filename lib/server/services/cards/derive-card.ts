import type { EntityManager } from '@mikro-orm/postgresql';
import { Account, Card, type TCard } from '@/lib/server/entities';
import { lockHeldAssignments } from '@/lib/server/services/assignments/assignment-store';
import type { TActor } from '@/lib/server/authz/actor';
import { assertCan } from '@/lib/server/authz/can';
import { heldByActorSql } from '@/lib/server/authz/card-relation';
import { conflict, invalidInput } from '@/lib/server/errors/domain-error';
import { mutate } from '@/lib/server/live/change-log';
import type { TCardDerive, TCardOwnerDto } from '@/lib/shared/schemas/cards';
import { marginAlert, rederive, refreshCounts } from '@/lib/server/services/rates/rate-sets';
import { latestRevision, liveNow } from '@/lib/server/services/rates/revisions';
import { DerivedRateOutOfRange } from '@/lib/server/services/rates/derived-range';
import { finerThan } from '@/lib/server/services/rates/rates-csv';
import { assertChainDepth } from './card-chain';
import { cardChange, findVisibleCard, toCardOwnerDto } from './card-store';

/**
 * `POST /cards/{id}/derive` (DESIGN §1 "Reseller mode"): a customer card of the
 * caller's account whose rates follow `{id}` — a card the account owns or holds by
 * assignment — and any `moreParents` after it (same currency, compacted per prefix by
 * `compaction`), marked up (the connection fee too with `markupFee`), rounded the new
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
    const { card: parent, relation } = await findVisibleCard(tx, actor, unverifiedParentId);
    // Every parent through the same authz as the first: an invisible one is a 404.
    const more: TCard[] = [];
    const onlyHeld = new Set(relation === 'owner' ? [] : [parent.id]);
    for (const id of input.moreParents ?? []) {
      if (id === parent.id) throw invalidInput({ moreParents: 'names the card derived from' });
      const found = await findVisibleCard(tx, actor, id);
      if (found.relation !== 'owner') onlyHeld.add(found.card.id);
      more.push(found.card);
    }
    const currencies: Record<string, string> = {};
    more.forEach((card, index) => {
      if (card.currency !== parent.currency) {
        currencies[`moreParents.${index}`] = `is in ${card.currency}, not ${parent.currency}`;
      }
    });
    if (Object.keys(currencies).length) throw invalidInput(currencies);
    const parents = [parent, ...more];
    await lockHeldAssignments(
      tx,
      parents.map((card) => card.id),
      actor.account.id,
    );
    const held = heldByActorSql(actor);
    const heldRows = await tx.execute<{ id: string }[]>(
      `select c.id from card c where c.id = any(?::uuid[]) and ${held.where}
        order by c.id for share of c`,
      [`{${parents.map((card) => card.id).join(',')}}`, ...held.params],
    );
    if (heldRows.length < parents.length) {
      throw conflict('not_held', 'Derive from a card your account owns or holds by assignment.');
    }
    await assertOverridesOnParent(
      tx,
      parents.map((card) => card.id),
      input.overrides ?? [],
      input.decimals ?? parent.decimals,
    );
    // A chain past the limit can price a row out of the stored range at its foot.
    await assertChainDepth(tx, [
      { id: parent.id, name: parent.name, field: 'parentId', held: onlyHeld.has(parent.id) },
      ...more.map((card, index) => ({
        id: card.id,
        name: card.name,
        field: `moreParents.${index}`,
        held: onlyHeld.has(card.id),
      })),
    ]);
    for (const card of parents) {
      const pending = await latestRevision(tx, card.id);
      if (pending && !pending.applied_at) {
        // Its scheduled rates would pass the new card by (revisions are computed when scheduled).
        throw conflict(
          'revision_scheduled',
          `A rate revision of ${card.name} goes live at ${new Date(pending.live_at).toISOString()}; derive from it once it is live, or cancel it.`,
        );
      }
    }
    const owner = await tx.findOneOrFail(Account, { id: actor.account.id });
    const card = tx.create(Card, {
      owner,
      name: input.name,
      currency: parent.currency,
      kind: 'customer',
      decimals: input.decimals ?? parent.decimals,
      rounding: input.rounding ?? parent.rounding,
      // Not given: its parent's, followed when the parent's changes.
      decimalsFromParent: input.decimals === undefined,
      roundingFromParent: input.rounding === undefined,
      parent,
      markupPercent: input.markupPercent ?? null,
      markupFixed: input.markupFixed ?? null,
      overrides: input.overrides?.length ? input.overrides : null,
      billingInitialIncrement: input.initialIncrement ?? null,
      billingIncrement: input.increment ?? null,
      billingGraceSeconds: input.graceSeconds ?? null,
      billingMinimumSeconds: input.minimumSeconds ?? null,
      markupFee: input.markupFee ?? false,
      rules: input.rules?.length ? input.rules : null,
      moreParents: more.length ? more.map((card) => card.id) : null,
      compaction: more.length ? (input.compaction ?? 'first') : null,
    });
    await tx.flush();
    await tx.execute(
      `insert into card_parent (card_id, parent_id, position)
       select ?, id, (pos - 1)::smallint from unnest(?::uuid[]) with ordinality x(id, pos)`,
      [card.id, `{${parents.map((row) => row.id).join(',')}}`],
    );
    const rederived = await rederive(tx, card.id, { plan: liveNow('parent', actor.userId) }).catch(
      (error: unknown) => {
        // Within the chain limit a row cannot overflow; a chain made before it can.
        const field = DERIVE_PRICING_FIELDS.find((name) => input[name] !== undefined);
        throw error instanceof DerivedRateOutOfRange ? error.naming(field ?? 'parentId') : error;
      },
    );
    await refreshCounts(tx, card);
    const dto = toCardOwnerDto(card);
    record(cardChange(card, owner.path, 'created', null, dto, []));
    if (rederived.newlyLosing > 0) record(marginAlert(card, owner.path, dto, [], rederived));
    return dto;
  });
}

/** What can raise a derived price, the likeliest cause of an overflow first. */
const DERIVE_PRICING_FIELDS = [
  'markupPercent',
  'markupFixed',
  'rules',
  'overrides',
  'markupFee',
  'moreParents',
  'decimals',
  'rounding',
] as const;

/**
 * An override's price at no more decimals than the card prices to, as a rate written to
 * it (finer would be stored one way and billed another): each one finer, by field.
 */
export function finerOverrides(
  overrides: readonly { rate: string }[],
  decimals: number,
): Record<string, string> {
  const fields: Record<string, string> = {};
  overrides.forEach((row, index) => {
    const finer = finerThan({ rate: row.rate, connectionFee: '0' }, decimals);
    if (finer) fields[`overrides.${index}.rate`] = finer.replace(/^rate /, '');
  });
  return fields;
}

/**
 * An override names a prefix a parent prices (and fits the card's decimals:
 * `finerOverrides`); anything else is a 400 naming it.
 */
export async function assertOverridesOnParent(
  tx: EntityManager,
  parentIds: string[],
  overrides: { prefix: string; rate: string }[],
  decimals: number,
): Promise<void> {
  if (!overrides.length) return;
  const fields = finerOverrides(overrides, decimals);
  const found = await tx.execute<{ prefix: string }[]>(
    `select distinct prefix from rate where card_id = any(?::uuid[]) and prefix = any(?::text[])`,
    [`{${parentIds.join(',')}}`, `{${overrides.map((row) => row.prefix).join(',')}}`],
  );
  const known = new Set(found.map((row) => row.prefix));
  overrides.forEach((row, index) => {
    if (!known.has(row.prefix)) {
      fields[`overrides.${index}.prefix`] = 'is not a prefix of the parent card';
    }
  });
  if (Object.keys(fields).length) throw invalidInput(fields);
}
