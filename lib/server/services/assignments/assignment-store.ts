import type { EntityManager } from '@mikro-orm/postgresql';
import { CardAssignment, type TCardAssignment } from '@/lib/server/entities';
import type { TChange } from '@/lib/server/live/change-log';
import type { TActor } from '@/lib/server/authz/actor';
import { withinSql } from '@/lib/server/authz/scope';
import { conflict } from '@/lib/server/errors/domain-error';
import { assignedView, type TAssignmentDto, type TCardOwnerDto } from '@/lib/shared/schemas/cards';
import type { TChangeSummaryOf } from '@/lib/shared/live/change-summary';

/** The assignment with its card and account loaded (their names are part of it). */
export function toAssignmentDto(assignment: TCardAssignment): TAssignmentDto {
  return {
    id: assignment.id,
    version: assignment.version,
    createdAt: assignment.createdAt.toISOString(),
    updatedAt: assignment.updatedAt.toISOString(),
    cardId: assignment.card.id,
    cardName: assignment.card.name,
    cardCurrency: assignment.card.currency,
    accountId: assignment.account.id,
    accountName: assignment.account.name,
    accountKind: assignment.exclusive ? 'customer' : 'reseller',
  };
}

/**
 * Assignments are seen by the card owner's side (its scope path is the owner's path,
 * like the card's): `assignments:read` and the card's owner in the actor's subtree.
 * The assignee sees the card, not the assignment.
 */
export function assignmentScopeSql(actor: TActor): { where: string; params: unknown[] } {
  const owned = withinSql('o.path', actor.account.path);
  return { where: owned.sql, params: owned.params };
}

/**
 * An assignment's change-log record. The audience hint `card` is the assignee's view of
 * the card: the audience function turns the assignment into `cards.added` /
 * `cards.removed` for the assignee's own account; it is never delivered as is.
 */
export function assignmentChange(
  assignment: TCardAssignment,
  ownerPath: string,
  op: 'created' | 'deleted' | 'updated',
  card: TCardOwnerDto,
  summary?: TChangeSummaryOf<'assignments'>,
  /** For `updated`: the assignment as it read before. */
  previous?: TAssignmentDto,
): TChange {
  const dto = { ...toAssignmentDto(assignment) };
  // A reference the service did not load has no name: the sentence then says "an account".
  const accountName = (assignment.account as { name?: unknown }).name;
  return {
    resource: 'assignments',
    entityId: assignment.id,
    op,
    version: assignment.version,
    before: op === 'deleted' ? dto : op === 'updated' ? (previous ?? dto) : null,
    after: op === 'deleted' ? null : dto,
    scopeBefore: op === 'created' ? null : ownerPath,
    scopeAfter: op === 'deleted' ? null : ownerPath,
    summary: {
      ...summary,
      cardName: card.name,
      ...(typeof accountName === 'string' ? { accountName } : {}),
    },
    audience: { holder: assignment.account.id, card: assignedView(card) },
  };
}

/**
 * A card renamed: each of its assignments shows the new name (`cardName` is part of the
 * assignment), so each is recorded as `updated` for the owner's side that reads
 * assignments — including people who read assignments but not cards, who get no card
 * change. The holders learn the new name from the card's own change.
 */
export async function assignmentsRenamed(
  tx: EntityManager,
  cardId: string,
  ownerPath: string,
  card: TCardOwnerDto,
  previousName: string,
  record: (change: TChange) => void,
): Promise<void> {
  const held = await tx.find(CardAssignment, { card: cardId }, { populate: ['card', 'account'] });
  const before = new Map(
    held.map((assignment) => [
      assignment.id,
      { ...toAssignmentDto(assignment), cardName: previousName },
    ]),
  );
  // Its version moves, so an open list takes the new name over the one it holds.
  for (const assignment of held) assignment.updatedAt = new Date();
  await tx.flush();
  for (const assignment of held) {
    record(
      assignmentChange(
        assignment,
        ownerPath,
        'updated',
        card,
        { reason: 'card_renamed' },
        before.get(assignment.id),
      ),
    );
  }
}

/**
 * Derived cards made from an assignment block taking it away, by removal or by giving a
 * customer another card (409 `has_dependants` listing them): their rates would lose their
 * source, or keep following a card their owner no longer holds. A card follows every
 * parent in `card_parent`, not only its first, so any of them counts. The caller holds
 * the assignment's row (a removal) or the card's (a replacement); a derive or a change
 * of parents holds the assignments it follows first (`lockHeldAssignments`), so either
 * this sees its card or it reads the assignment gone.
 */
export async function assertNothingDerivedVia(
  em: EntityManager,
  cardId: string,
  accountId: string,
  message: string,
): Promise<void> {
  const dependants = await em.execute<{ resource: string; id: string; name: string }[]>(
    `select 'cards' as resource, c.id, c.name
       from card_parent cp join card c on c.id = cp.card_id
      where cp.parent_id = ? and c.owner_id = ?
      order by c.name limit 20`,
    [cardId, accountId],
  );
  if (dependants.length) throw conflict('has_dependants', message, { dependants });
}

/**
 * Holds `accountId`'s assignments of `cardIds` (shared) before a card is made to follow
 * them (a derive, a change of parents): a removal of one in flight is waited for, and the
 * check that the account holds the card, read after this, finds it gone — where a check
 * alone would pass on what it read before, and the removal, not yet seeing the new card,
 * would pass too (`assertNothingDerivedVia`).
 */
export async function lockHeldAssignments(
  em: EntityManager,
  cardIds: readonly string[],
  accountId: string,
): Promise<void> {
  await em.execute(
    `select 1 from card_assignment where card_id = any(?::uuid[]) and account_id = ?
      order by id for share`,
    [`{${cardIds.join(',')}}`, accountId],
  );
}
