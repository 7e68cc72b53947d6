import { assuranceChanged } from '@/lib/server/services/rates/rate-sets';
import {
  assertReplacementGivesNotice,
  noticeHoursSql,
} from '@/lib/server/services/rates/revisions';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Account, CardAssignment } from '@/lib/server/entities';
import type { TActor } from '@/lib/server/authz/actor';
import { assertCan } from '@/lib/server/authz/can';
import { carrierIdOf, scopeFor } from '@/lib/server/authz/scope';
import { conflict, notFound, type DomainError } from '@/lib/server/errors/domain-error';
import { mutate } from '@/lib/server/live/change-log';
import type { TAssignmentDto } from '@/lib/shared/schemas/cards';
import {
  assertOwnerSide,
  findVisibleCard,
  toCardOwnerDto,
} from '@/lib/server/services/cards/card-store';
import { notifyAccounts } from '@/lib/server/services/notifications/notify-accounts';
import { assertNothingDerivedVia, assignmentChange, toAssignmentDto } from './assignment-store';
import { settleSpansAtCommit } from './span-dating';

/**
 * A card priced in one currency given to an account kept in another (issue 17): refused,
 * never converted silently.
 */
export function currencyMismatch(
  cardCurrency: string,
  account: { name: string; currency: string },
): DomainError {
  return conflict(
    'currency_mismatch',
    `The card is in ${cardCurrency}; ${account.name} is kept in ${account.currency}.`,
    { cardCurrency, accountCurrency: account.currency },
  );
}

/**
 * `POST /assignments` (DESIGN §1 "Assignments"): only the card's owner assigns, only a
 * customer card, only to a reseller or customer directly under the owner, only in the
 * account's currency. A reseller
 * may hold several cards; a customer holds one — assigning another replaces it (both
 * changes logged), unless a card was derived from the old one.
 */
export async function createAssignment(
  em: EntityManager,
  actor: TActor,
  input: { cardId: string; accountId: string },
): Promise<TAssignmentDto> {
  assertCan(actor, 'assignments:create');
  return mutate(em, actor, async (tx, record) => {
    const { card, relation, ownerPath } = await findVisibleCard(tx, actor, input.cardId, {
      lock: true,
    });
    assertOwnerSide(relation, 'assigns it');
    if (card.owner.id !== actor.account.id) {
      throw conflict('not_card_owner', "Only the card's owning account assigns it.");
    }
    if (card.kind !== 'customer') {
      throw conflict(
        'provider_card',
        'Provider cards are never assigned: that would show upstream cost.',
      );
    }
    const account = await tx.findOne(Account, {
      $and: [scopeFor(actor, 'account'), { id: input.accountId }],
    });
    if (!account) throw notFound('account');
    // Its own account included (found: it is in scope): not under the owner, so the same
    // refusal as any other account not directly below it, not "No such account".
    if (account.id === card.owner.id || account.parent?.id !== card.owner.id) {
      throw conflict(
        'not_direct_child',
        'A card is assigned only to a reseller or customer directly under its owner.',
      );
    }
    if (card.currency !== account.currency) throw currencyMismatch(card.currency, account);
    const exclusive = account.kind === 'customer';
    /** The card a customer held until now, when this replaces it. */
    let replaced: string | null = null;
    if (exclusive) {
      const held = await tx.findOne(
        CardAssignment,
        { account: account.id },
        { populate: ['card', 'card.owner'] },
      );
      if (held && held.card.id === card.id) {
        throw conflict('duplicate', 'This customer holds this card already.');
      }
      if (held) {
        // One card per customer: the new one replaces it. The old card came from the same
        // owner, the customer's parent. A customer whose group may create cards can have
        // derived one from it: then it stays until those go, as a removal would (its rows
        // locked first as the removal locks them — the assignment, then the card, in the
        // order a derive takes them — against a derive from it racing this).
        const locked = await tx.execute(
          `select 1 from card_assignment ca join card c on c.id = ca.card_id
            where ca.id = ? for update of ca, c`,
          [held.id],
        );
        if (!locked.length) {
          // Taken away while this waited for it: by a transfer (then the customer is no
          // longer the owner's: 404), or by its owner — whose change this must not undo.
          await assertStillUnder(tx, account.id, card.owner.id);
          throw conflict('busy', "The customer's card changed meanwhile; try again.");
        }
        await assertNothingDerivedVia(
          tx,
          held.card.id,
          account.id,
          `Cards were derived from ${held.card.name}, which ${account.name} holds now; they must go before it is replaced.`,
        );
        const before = toCardOwnerDto(held.card);
        replaced = held.card.id;
        tx.remove(held);
        await tx.flush();
        record(assignmentChange(held, ownerPath, 'deleted', before, { reason: 'replaced' }));
      }
      await assertNoticeOfCardsHeld(tx, account, card.owner.id, card.id);
    } else {
      const held = await tx.findOne(CardAssignment, { account: account.id, card: card.id });
      if (held) throw conflict('duplicate', 'This reseller holds this card already.');
    }
    const assignment = tx.create(CardAssignment, { card, account, exclusive });
    await tx.flush();
    record(assignmentChange(assignment, ownerPath, 'created', toCardOwnerDto(card)));
    if (exclusive) settleSpansAtCommit(record, carrierIdOf(ownerPath), [account.id]);
    // A card the assignee built by hand may name this one to compare with (held before and
    // given back): its margin is checked against it again now, with alerts for losses; and
    // against the card this replaces, no longer its to compare with, its losses forgotten
    // now (as a removal does), not at that card's next rate change.
    assuranceChanged(record, carrierIdOf(ownerPath), replaced ? [card.id, replaced] : [card.id]);
    // Its people who read cards are told (the card enters their provider cards).
    await notifyAccounts(tx, record, {
      accountIds: [account.id],
      readGrants: ['cards:read'],
      kind: 'card.assigned',
      title: `Card ${card.name} assigned to your account`,
      body: `${card.owner.name} assigned the rate card ${card.name} (${card.currency}) to ${account.name}.`,
      link: `/cards/${card.id}`,
      data: { cardId: card.id, accountId: account.id },
    });
    // Only customers move: a reseller's row is left free (a bulk assignment to many would
    // hold them all to its commit, and usage rating below them with them).
    if (exclusive) await assertStillUnder(tx, account.id, card.owner.id);
    return toAssignmentDto(assignment);
  });
}

/**
 * The account's row held shared (as `ownerLock` holds it) to commit, and its parent read again: a
 * transfer of it in flight is waited for, and one that moved it since it was first read
 * undoes the assignment (404: it left the owner's side) — else the owner, checked as its
 * parent before the move, would have replaced the card its new parent gave it. Taken
 * last, not with that first read: the margin check above can be long, and usage rating
 * waits on the account's row (with its carrier's) while it is held. A transfer that
 * starts after this waits for the commit, and moves the customer with this card.
 */
async function assertStillUnder(tx: EntityManager, accountId: string, ownerId: string) {
  const [row] = await tx.execute<{ parent_id: string | null }[]>(
    'select parent_id from account where id = ? for share',
    [accountId],
  );
  if (row?.parent_id !== ownerId) throw notFound('account');
}

/**
 * A customer's new card held to the notice of each card of its parent it bought from
 * within that card's notice — the one this replaces, or one taken away a while ago (two
 * writes give no less notice than one), or one held in between — as a revision of that
 * card would be (rates/revisions.ts `assertReplacementGivesNotice`). Those cards' spans
 * end by now: the one replaced was removed just before this is asked.
 */
async function assertNoticeOfCardsHeld(
  tx: EntityManager,
  account: { id: string; name: string },
  ownerId: string,
  cardId: string,
): Promise<void> {
  const bound = await tx.execute<{ card_id: string; ended: Date }[]>(
    `select s.card_id, max(s.to_at) as ended
       from customer_card_span s join card c on c.id = s.card_id
       cross join lateral (select ${noticeHoursSql('c')} as hours) n
      where s.account_id = ? and c.owner_id = ? and s.card_id <> ? and n.hours > 0
        and s.to_at > now() - n.hours * interval '1 hour'
      group by s.card_id`,
    [account.id, ownerId, cardId],
  );
  for (const row of bound) {
    await assertReplacementGivesNotice(
      tx,
      { cardId: row.card_id, endedAt: new Date(row.ended) },
      cardId,
      account.name,
    );
  }
}
