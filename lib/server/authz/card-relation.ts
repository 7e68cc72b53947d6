import type { TActor } from './actor';
import { can } from './can';
import { isWithin, withinSql, type TSqlFragment } from './scope';

/**
 * Two relations to a card (DESIGN §1 "Rate cards"); a card itself is shown only with
 * `cards:read` (`cardRelation`, `cardScopeSql`: lists, its page, its live events, the
 * price trace's levels, which name cards), while an endpoint on a card by its id with
 * another grant reaches it by the relation alone (`findVisibleCard`: its rates with
 * `rates:read`, an assignment with `assignments:create` — one grant per endpoint):
 * - *owner*: the card's owner is the actor's account or below it — the full view
 *   (parent, markup, margin, assignments);
 * - *assignee*: the card is assigned to the actor's own account — its name, currency
 *   and rates only; to the assignee it is a provider card.
 * Anything else: no relation, so 404. A card's scope path (for the change log and the
 * audience) is its owner's account path.
 */
export type TCardRelation = 'owner' | 'assignee';

export function cardRelation(
  actor: TActor,
  card: { ownerPath: string; holders: readonly string[] },
): TCardRelation | null {
  if (!can(actor, 'cards:read')) return null;
  return accountCardRelation(actor.account, card);
}

/**
 * The same relation for an account rather than a person, by the tree alone (no grants):
 * what the account itself may be shown, whoever acts for it. For what is computed on an
 * account's behalf — a card's profit assurance compares only with cards its owner
 * account relates to, even when someone above sets or reads it.
 */
export function accountCardRelation(
  account: TCardAccount,
  card: { ownerPath: string; holders: readonly string[] },
): TCardRelation | null {
  if (isWithin(account.path, card.ownerPath)) return 'owner';
  if (card.holders.includes(account.id)) return 'assignee';
  return null;
}

/** An account as the card relation reads it: its id (assignments) and path (the tree). */
export interface TCardAccount {
  id: string;
  path: string;
}

/**
 * The same rule as SQL over `card c join account o on o.id = c.owner_id`: every card
 * read includes it, so a forgotten check matches nothing. The relation is a column
 * (`relation`) so one query serves both views.
 */
export function cardScopeSql(actor: TActor): {
  where: string;
  relation: string;
  params: unknown[];
  relationParams: unknown[];
} {
  if (!can(actor, 'cards:read'))
    return { where: 'false', relation: 'null', params: [], relationParams: [] };
  return accountCardScopeSql(actor.account);
}

/** `accountCardRelation` as SQL over `card c join account o on o.id = c.owner_id`. */
export function accountCardScopeSql(account: TCardAccount): {
  where: string;
  relation: string;
  params: unknown[];
  relationParams: unknown[];
} {
  const held = `exists (select 1 from card_assignment ca where ca.card_id = c.id and ca.account_id = ?)`;
  const owned = ownedCardSql({ account });
  return {
    where: `(${owned.sql} or ${held})`,
    params: [...owned.params, account.id],
    relation: `case when ${owned.sql} then 'owner' else 'assignee' end`,
    relationParams: owned.params,
  };
}

/** The card's owner `o` is the actor's account or below it: the owner relation. */
export function ownedCardSql(actor: { account: Pick<TCardAccount, 'path'> }): TSqlFragment {
  return withinSql('o.path', actor.account.path);
}

/** Cards the actor's account may derive from: its own, and those assigned to it. */
export function heldByActorSql(actor: TActor): { where: string; params: unknown[] } {
  return heldByAccountSql(actor.account.id);
}

/**
 * Cards an account may derive from: its own, and those assigned to it (the parents of a
 * derived card its owner's side edits are held by the card's owner, not the editor's).
 */
export function heldByAccountSql(accountId: string): { where: string; params: unknown[] } {
  return {
    where: `(c.owner_id = ? or exists (select 1 from card_assignment ca where ca.card_id = c.id and ca.account_id = ?))`,
    params: [accountId, accountId],
  };
}
