import { carrierIdOf } from '@/lib/server/authz/scope';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { TActor } from '@/lib/server/authz/actor';
import { assertCan } from '@/lib/server/authz/can';
import { conflict, invalidInput, notFound, staleVersion } from '@/lib/server/errors/domain-error';
import { mutate } from '@/lib/server/live/change-log';
import type { TCardOwnerDto, TCardPatch } from '@/lib/shared/schemas/cards';
import { assuranceChanged, rateSetChanged, rederive } from '@/lib/server/services/rates/rate-sets';
import {
  hasScheduledRevision,
  latestRevision,
  liveNow,
} from '@/lib/server/services/rates/revisions';
import { accountCardRelation, heldByAccountSql } from '@/lib/server/authz/card-relation';
import { Card, type TCard } from '@/lib/server/entities';
import { DerivedRateOutOfRange } from '@/lib/server/services/rates/derived-range';
import { finerRowSql, setNotice } from '@/lib/server/services/rates/revisions';
import { databaseClock } from '@/lib/server/db/clock';
import { assertChainDepth } from './card-chain';
import {
  assertOwnerSide,
  cardChange,
  findVisibleCard,
  holdersOf,
  toCardOwnerDto,
} from './card-store';
import { assertOverridesOnParent, finerOverrides } from './derive-card';
import {
  assignmentsRenamed,
  lockHeldAssignments,
} from '@/lib/server/services/assignments/assignment-store';

/**
 * `PATCH /cards/{id}` by the owner's side: name, precision and rounding; on a derived
 * card the markup rule too. Anything that changes how rates come out recomputes the
 * card (if derived) and every card derived from it, in this transaction.
 */
export async function updateCard(
  em: EntityManager,
  actor: TActor,
  unverifiedId: string,
  patch: TCardPatch,
): Promise<TCardOwnerDto> {
  assertCan(actor, 'cards:update');
  return mutate(em, actor, async (tx, record) => {
    const { card, relation, ownerPath } = await findVisibleCard(tx, actor, unverifiedId, {
      lock: true,
    });
    assertOwnerSide(relation, 'changes it');
    const before = toCardOwnerDto(card);
    if (patch.version !== card.version) throw staleVersion(before);

    const derived = Boolean(card.parent);
    // `null`: a derived card's precision or rounding back to its parent's, followed from
    // now on (`followParentTerms`); a value given is its own.
    const unset = (['decimals', 'rounding'] as const).filter((field) => patch[field] === null);
    if (unset.length && !derived) {
      throw invalidInput(
        Object.fromEntries(
          unset.map((field) => [field, 'is a parent’s only on a derived card: give a value']),
        ),
      );
    }
    const parentTerms = unset.length
      ? await tx.findOneOrFail(Card, { id: card.parent!.id })
      : undefined;
    const decimals = patch.decimals === null ? parentTerms!.decimals : patch.decimals;
    const rounding = patch.rounding === null ? parentTerms!.rounding : patch.rounding;
    const markupFields = (
      [
        'markupPercent',
        'markupFixed',
        'overrides',
        'markupFee',
        'initialIncrement',
        'increment',
        'graceSeconds',
        'minimumSeconds',
        'rules',
        'parents',
        'compaction',
      ] as const
    ).filter((field) => patch[field] !== undefined);
    if (!derived && markupFields.length) {
      throw invalidInput(
        Object.fromEntries(markupFields.map((field) => [field, 'applies to derived cards only'])),
      );
    }
    if (!derived && decimals !== undefined && decimals < card.decimals) {
      // The live rows, and the rows a scheduled revision will put live.
      const finer = await tx.execute(
        `select 1 from rate r where r.card_id = ? and ${finerRowSql('r')}
         union all
         select 1 from rate_history h
           join rate_revision v on v.card_id = h.card_id and v.number = h.from_rev
          where h.card_id = ? and v.applied_at is null and v.cancelled_at is null
            and ${finerRowSql('h')}
         limit 1`,
        [card.id, decimals, decimals, card.id, decimals, decimals],
      );
      if (finer.length) {
        throw conflict(
          'precision_loss',
          `Some rates have more than ${decimals} decimals; change them first.`,
        );
      }
    }
    if (patch.compareWith !== undefined) {
      if (derived || card.kind !== 'customer') {
        throw invalidInput({ compareWith: 'applies to customer cards that are not derived' });
      }
      const fields: Record<string, string> = {};
      for (const [index, id] of (patch.compareWith ?? []).entries()) {
        if (id === card.id) {
          fields[`compareWith.${index}`] = 'is this card';
          continue;
        }
        // Each through the same authz as any card read: one the caller cannot see is a 404.
        const { card: other, ownerPath: otherPath } = await findVisibleCard(tx, actor, id);
        // And one the card's owner cannot see: its margin report would show the owner that
        // card's rates (an editor above sees more than the owner, such as the provider
        // cost above a card it gave out). The same 404, so nothing more is told.
        const holders = await holdersOf(tx, other.id);
        if (!accountCardRelation(card.owner, { ownerPath: otherPath, holders })) {
          throw notFound('card');
        }
        if (other.currency !== card.currency) {
          fields[`compareWith.${index}`] = `is in ${other.currency}, not ${card.currency}`;
        }
      }
      if (Object.keys(fields).length) throw invalidInput(fields);
      card.compareWith = patch.compareWith?.length ? patch.compareWith : null;
    }
    if (patch.parents !== undefined) await reparent(tx, actor, card, patch.parents);
    if (patch.compaction !== undefined) {
      if (!card.moreParents?.length) {
        throw invalidInput({ compaction: 'applies to a card with several parents' });
      }
      card.compaction = patch.compaction;
    }
    // `null` clears them: what the card keeps after this edit.
    const overrides =
      patch.overrides !== undefined ? (patch.overrides ?? []) : (card.overrides ?? []);
    if (card.parent && (patch.overrides || patch.parents)) {
      // New parents: the overrides kept must still name prefixes they price.
      await assertOverridesOnParent(
        tx,
        [card.parent.id, ...(card.moreParents ?? [])],
        overrides,
        decimals ?? card.decimals,
      );
    } else if (decimals !== undefined) {
      // Fewer decimals: no override kept may be finer than the card then prices to.
      const finer = finerOverrides(overrides, decimals);
      if (Object.keys(finer).length) throw invalidInput(finer);
    }

    if (patch.name !== undefined) card.name = patch.name;
    if (decimals !== undefined) {
      card.decimals = decimals;
      card.decimalsFromParent = patch.decimals === null;
    }
    if (rounding !== undefined) {
      card.rounding = rounding;
      card.roundingFromParent = patch.rounding === null;
    }
    if (patch.markupPercent !== undefined) card.markupPercent = patch.markupPercent;
    if (patch.markupFixed !== undefined) card.markupFixed = patch.markupFixed;
    if (patch.markupFee !== undefined) card.markupFee = patch.markupFee;
    if (patch.rules !== undefined) card.rules = patch.rules?.length ? patch.rules : null;
    if (patch.initialIncrement !== undefined) card.billingInitialIncrement = patch.initialIncrement;
    if (patch.increment !== undefined) card.billingIncrement = patch.increment;
    if (patch.graceSeconds !== undefined) card.billingGraceSeconds = patch.graceSeconds;
    if (patch.minimumSeconds !== undefined) card.billingMinimumSeconds = patch.minimumSeconds;
    if (patch.minNoticeHours !== undefined) {
      setNotice(card, patch.minNoticeHours, await databaseClock(tx, 'transaction'));
    }
    if (patch.overrides !== undefined) {
      card.overrides = patch.overrides?.length ? patch.overrides : null;
    }
    // On the row before anything below records a revision: each revision keeps the
    // precision and rounding it was priced with (Migration20261220200000).
    await tx.flush();
    const after = toCardOwnerDto(card);
    if (after.version === before.version) return after;
    record(cardChange(card, ownerPath, 'updated', before, after, await holdersOf(tx, card.id)));
    if (after.name !== before.name) {
      await assignmentsRenamed(tx, card.id, ownerPath, after, before.name, record);
    }
    if (JSON.stringify(after.compareWith) !== JSON.stringify(before.compareWith)) {
      // Compared with other providers, or none: rows that lose now are told once.
      assuranceChanged(record, carrierIdOf(ownerPath), [card.id]);
    }

    const pricing =
      before.decimals !== after.decimals ||
      before.rounding !== after.rounding ||
      JSON.stringify(before.markup) !== JSON.stringify(after.markup) ||
      JSON.stringify(before.parentIds) !== JSON.stringify(after.parentIds) ||
      before.compaction !== after.compaction;
    if (pricing) {
      // Its scheduled revisions (and its children's) were computed the old way.
      if (await hasScheduledRevision(tx, card.id)) {
        throw conflict(
          'revision_scheduled',
          'A rate revision of this card or one derived from it is scheduled; cancel it or wait until it is live before changing how rates are computed.',
        );
      }
      try {
        // A derived card's own rows come out differently; a parent's rounding changes the
        // buy prices its children's margin check compares against.
        const rederived = derived
          ? await rederive(tx, card.id, { plan: liveNow('markup', actor.userId) })
          : undefined;
        await rateSetChanged(
          tx,
          card,
          ownerPath,
          'markup',
          record,
          rederived,
          undefined,
          actor.userId,
        );
      } catch (error) {
        // This card or one below it would price a row out of range: name what the patch
        // changed that can raise prices, the likeliest cause first.
        const field = PRICING_FIELDS.find((name) => patch[name] !== undefined);
        throw error instanceof DerivedRateOutOfRange && field ? error.naming(field) : error;
      }
    }
    return toCardOwnerDto(card);
  });
}

/** The patch's fields that can raise a derived price, the likeliest cause of an overflow first. */
const PRICING_FIELDS = [
  'markupPercent',
  'markupFixed',
  'rules',
  'overrides',
  'markupFee',
  'parents',
  'compaction',
  'decimals',
  'rounding',
] as const;

/**
 * A derived card's parents replaced (`parents`), by the rules of deriving: each visible
 * to the caller (404 otherwise) and owned or held by the card's owner, in its currency,
 * not the card itself nor derived from it (a cycle), none with a revision scheduled (its
 * rates would pass the card by). `card_parent` is rewritten; the caller recomputes.
 */
async function reparent(
  tx: EntityManager,
  actor: TActor,
  card: TCard,
  ids: string[],
): Promise<void> {
  const fields: Record<string, string> = {};
  const parents: TCard[] = [];
  const onlyHeld = new Set<string>();
  for (const [index, id] of ids.entries()) {
    if (id === card.id) {
      fields[`parents.${index}`] = 'is this card';
      continue;
    }
    const { card: other, relation } = await findVisibleCard(tx, actor, id);
    if (relation !== 'owner') onlyHeld.add(other.id);
    if (other.currency !== card.currency) {
      fields[`parents.${index}`] = `is in ${other.currency}, not ${card.currency}`;
    }
    parents.push(other);
  }
  // The new parents held before the tree below this card is read: another card's change
  // of parents (holding its row) committing after this check would otherwise close a
  // cycle with it — this card's new parent made to follow a card derived from this one.
  await tx.execute(`select id from card where id = any(?::uuid[]) order by id for share`, [
    `{${parents.map((parent) => parent.id).join(',')}}`,
  ]);
  const below = await tx.execute<{ id: string }[]>(
    `with recursive tree as (
       select card_id as id from card_parent where parent_id = ?
       union
       select cp.card_id from card_parent cp join tree on cp.parent_id = tree.id)
     select id from tree where id = any(?::uuid[])`,
    [card.id, `{${ids.join(',')}}`],
  );
  for (const row of below) fields[`parents.${ids.indexOf(row.id)}`] = 'is derived from this card';
  if (Object.keys(fields).length) throw invalidInput(fields);
  // The card moves with every card derived from it: the whole chain below must still fit.
  await assertChainDepth(
    tx,
    parents.map((parent) => ({
      id: parent.id,
      name: parent.name,
      field: `parents.${ids.indexOf(parent.id)}`,
      held: onlyHeld.has(parent.id),
    })),
    card.id,
  );
  await lockHeldAssignments(tx, ids, card.owner.id);
  const held = heldByAccountSql(card.owner.id);
  const heldRows = await tx.execute<{ id: string }[]>(
    `select c.id from card c where c.id = any(?::uuid[]) and ${held.where}`,
    [`{${ids.join(',')}}`, ...held.params],
  );
  if (heldRows.length < ids.length) {
    throw conflict(
      'not_held',
      'A card follows only cards its account owns or holds by assignment.',
    );
  }
  for (const parent of parents) {
    const pending = await latestRevision(tx, parent.id);
    if (pending && !pending.applied_at) {
      throw conflict(
        'revision_scheduled',
        `A rate revision of ${parent.name} goes live at ${new Date(pending.live_at).toISOString()}; follow it once it is live, or cancel it.`,
      );
    }
  }
  const [first, ...more] = parents;
  card.parent = first!;
  card.moreParents = more.length ? more.map((parent) => parent.id) : null;
  card.compaction = more.length ? (card.compaction ?? 'first') : null;
  // The parents it leaves stay reachable for the calls their rows priced (rating and the
  // trace climb by a row's `priced_by`, by the revision live at the call's start).
  await tx.execute(
    `insert into card_former_parent (card_id, parent_id)
     select card_id, parent_id from card_parent where card_id = ? and parent_id <> all(?::uuid[])
     on conflict do nothing`,
    [card.id, `{${ids.join(',')}}`],
  );
  await tx.execute('delete from card_parent where card_id = ?', [card.id]);
  await tx.execute(
    `insert into card_parent (card_id, parent_id, position)
     select ?, id, (pos - 1)::smallint from unnest(?::uuid[]) with ordinality x(id, pos)`,
    [card.id, `{${ids.join(',')}}`],
  );
}
