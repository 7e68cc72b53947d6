import type { EntityManager } from '@mikro-orm/postgresql';
import { Card, type TCard } from '@/lib/server/entities';
import type { TActor } from '@/lib/server/authz/actor';
import { accountCardScopeSql, type TCardRelation } from '@/lib/server/authz/card-relation';
import { DomainError, notFound } from '@/lib/server/errors/domain-error';
import type { TChange } from '@/lib/server/live/change-log';
import { money } from '@/lib/shared/pricing/money';
import { assignedView, type TCardDto, type TCardOwnerDto } from '@/lib/shared/schemas/cards';
import type { TCardChangeSummary } from '@/lib/shared/live/change-summary';
import type { TRevisionCounts } from '@/lib/shared/schemas/revisions';

/** A card as its owner (and the accounts above it) see it. */
export function toCardOwnerDto(card: TCard): TCardOwnerDto {
  const parentId = card.parent?.id ?? null;
  return {
    id: card.id,
    version: card.version,
    createdAt: card.createdAt.toISOString(),
    updatedAt: card.updatedAt.toISOString(),
    relation: 'owner',
    name: card.name,
    currency: card.currency,
    kind: card.kind,
    decimals: card.decimals,
    rounding: card.rounding,
    ownerId: card.owner.id,
    parentId,
    parentIds: parentId ? [parentId, ...(card.moreParents ?? [])] : [],
    compaction: parentId && card.moreParents?.length ? (card.compaction ?? 'first') : null,
    compareWith: card.compareWith ?? [],
    markup: parentId
      ? {
          percent: plain(card.markupPercent),
          fixed: plain(card.markupFixed),
          overrides: (card.overrides ?? []).map((row) => ({
            prefix: row.prefix,
            rate: money(row.rate).toFixed(),
          })),
          fee: card.markupFee ?? false,
          decimalsFromParent: card.decimalsFromParent ?? false,
          roundingFromParent: card.roundingFromParent ?? false,
          initialIncrement: card.billingInitialIncrement ?? null,
          increment: card.billingIncrement ?? null,
          graceSeconds: card.billingGraceSeconds ?? null,
          minimumSeconds: card.billingMinimumSeconds ?? null,
          rules: (card.rules ?? []).map((rule) => ({
            prefix: rule.prefix,
            mode: rule.mode,
            value: money(rule.value).toFixed(),
          })),
        }
      : null,
    rateCount: card.rateCount,
    losingRates: card.losingRates,
    minNoticeHours: card.minNoticeHours ?? null,
  };
}

export function toCardDto(card: TCard, relation: TCardRelation): TCardDto {
  const dto = toCardOwnerDto(card);
  return relation === 'owner' ? dto : assignedView(dto);
}

/** "20.000000" → "20": a percentage or amount as the person typed it. */
function plain(value: string | null | undefined): string | null {
  return value === null || value === undefined ? null : money(value).toFixed();
}

export interface TVisibleCard {
  card: TCard;
  relation: TCardRelation;
  /** The owner's account path: the card's scope path in the change log. */
  ownerPath: string;
}

/**
 * `unverifiedId` from the client as the actor's account relates to it (owner or assignee,
 * by the tree and the assignments), or 404 (outside scope and non-existent look alike).
 * The endpoint's own grant is the caller's to check first, and is the only one it needs
 * (DESIGN §1 "One grant per endpoint and action"): `rates:read` reads a card's rates,
 * `assignments:create` assigns it, without `cards:read`. `lock` takes the card's row
 * lock, so concurrent rate writers and derives of the same card queue instead of
 * interleaving.
 */
export async function findVisibleCard(
  em: EntityManager,
  actor: TActor,
  unverifiedId: string,
  /**
   * `lock`: the card's row for the transaction, `for no key update` — a writer of the card
   * (its rates, markup, assignments) is not changing its key, and a stronger lock would
   * deadlock with an edit of a card derived from it, whose second update of its own row
   * re-checks the key of its parent (`for key share`); `'delete'`: `for update`.
   */
  options: { lock?: boolean | 'delete' } = {},
): Promise<TVisibleCard> {
  const scope = accountCardScopeSql(actor.account);
  const rows = await em.execute<{ relation: TCardRelation; owner_path: string }[]>(
    `select ${scope.relation} as relation, o.path as owner_path
       from card c join account o on o.id = c.owner_id
      where c.id = ? and ${scope.where}${
        options.lock === 'delete'
          ? ' for update of c'
          : options.lock
            ? ' for no key update of c'
            : ''
      }`,
    [...scope.relationParams, unverifiedId, ...scope.params],
  );
  const row = rows[0];
  if (!row) throw notFound('card');
  const card = await em.findOne(Card, { id: unverifiedId }, { populate: ['owner'] });
  if (!card) throw notFound('card'); // deleted between the two reads
  return { card, relation: row.relation, ownerPath: row.owner_path };
}

/**
 * A write only the card's owning side makes (its settings, rates, assignments, deletion,
 * its margin): a card held by assignment is one its holder sees, so 404 would tell it the
 * card does not exist — 403 `assigned_card` says what it may do instead.
 */
export function assertOwnerSide(relation: TCardRelation, doing: string): void {
  if (relation !== 'owner') {
    throw new DomainError(
      'forbidden',
      'assigned_card',
      `This card is assigned to your account: only its owner ${doing}. Derive a customer card from it to sell it.`,
    );
  }
}

/** The accounts holding a card by assignment (who see its assignee view). */
export async function holdersOf(em: EntityManager, cardId: string): Promise<string[]> {
  const rows = await em.execute<{ account_id: string }[]>(
    'select account_id from card_assignment where card_id = ? order by account_id',
    [cardId],
  );
  return rows.map((row) => row.account_id);
}

/**
 * A card's change-log record. The owner's DTO is the entry; the audience hint `holders`
 * tells the audience function (lib/server/authz/audience.ts) which accounts get the
 * assignee view, and is never delivered itself.
 */
export function cardChange(
  card: { id: string; version: number },
  ownerPath: string,
  op: TChange['op'],
  before: TCardOwnerDto | null,
  after: TCardOwnerDto | null,
  holders: string[],
  summary?: TCardChangeSummary,
  holderCounts?: TRevisionCounts,
): TChange {
  return {
    resource: 'cards',
    entityId: card.id,
    op,
    version: card.version,
    before: before ? { ...before } : null,
    after: after ? { ...after } : null,
    scopeBefore: op === 'created' ? null : ownerPath,
    scopeAfter: op === 'deleted' ? null : ownerPath,
    summary,
    audience: { holders, ...(holderCounts ? { holderCounts } : {}) },
  };
}
