import { dependantsFor } from '@/lib/server/authz/dependants';
import type { EntityManager } from '@mikro-orm/postgresql';
import { CardAssignment } from '@/lib/server/entities';
import type { TActor } from '@/lib/server/authz/actor';
import { assertCan } from '@/lib/server/authz/can';
import { accountScopePath, carrierIdOf, isWithin, onPathSql } from '@/lib/server/authz/scope';
import { conflict, invalidInput, notFound } from '@/lib/server/errors/domain-error';
import { mutate, type TChange } from '@/lib/server/live/change-log';
import { Money } from '@/lib/shared/pricing/money';
import type { TAccount } from '@/lib/server/entities';
import { currencyMismatch } from '@/lib/server/services/assignments/create-assignment';
import { postEntry } from '@/lib/server/services/ledger/ledger-store';
import { assertCurrencyAsSeen } from '@/lib/server/services/ledger/record-payment';
import type { TCustomerDto } from '@/lib/shared/schemas/accounts';
import type { TTransfer } from '@/lib/shared/schemas/cards';
import { findVisibleCard, toCardOwnerDto } from '@/lib/server/services/cards/card-store';
import { assignmentChange } from '@/lib/server/services/assignments/assignment-store';
import { settleSpansAtCommit } from '@/lib/server/services/assignments/span-dating';
import { findParentForNew, findScopedAccount, readAccountInScope } from './account-scope';
import { placeInTree } from './account-tree';
import {
  firstAnswer,
  onceForKey,
  requestHash,
  type TRequestHashes,
} from '@/lib/server/db/idempotent-request';
import { suspendedAncestors, toCustomerDto } from './account-dto';

/**
 * `POST /customers/{id}/transfer` (DESIGN §1 "Customer moves"): the only way a customer
 * changes parent. Target and card are named and checked inside the caller's scope; the
 * move, the end of the old card and the start of the new one are one transaction,
 * effective at once. The customer's log row moves its scope path, so the old parent's
 * side receives `customers.removed` and the new one `customers.added`; the assignment
 * rows and the summary make the audit record complete. A target in another currency
 * needs a conversion `rate` (409 `currency_mismatch` without it). With an
 * `idempotencyKey` (required when money moves: a balance settled, converted, or kept and
 * not zero) a retry answers what the first attempt did (lib/server/db/idempotent-request.ts).
 */
export async function transferCustomer(
  em: EntityManager,
  actor: TActor,
  unverifiedId: string,
  input: TTransfer,
): Promise<TCustomerDto> {
  assertCanTransfer(actor, input);
  const key = input.idempotencyKey;
  const table = 'transfer_request';
  if (!key && (input.balance === 'settle' || input.rate !== undefined)) {
    throw invalidInput({
      idempotencyKey: 'is required when the transfer settles or converts the balance',
    });
  }
  // What is asked, canonical: the same move whatever the ids' case or the rate's spaces.
  const asked = (rate: string | null) => [
    unverifiedId.toLowerCase(),
    input.toParentId.toLowerCase(),
    input.cardId.toLowerCase(),
    rate,
    input.balance ?? 'keep',
    ...(input.fromCurrency ? [input.fromCurrency] : []),
  ];
  // The rate as a number: "1.085" and "1.0850" are the same move. Keys stored before
  // 2026-12-06 hashed it as written: their retries still match that.
  const hash: TRequestHashes = key
    ? [
        requestHash(
          asked(input.rate === undefined ? null : new Money(input.rate.trim()).toFixed(8)),
        ),
        requestHash(asked(input.rate?.trim() ?? null)),
      ]
    : '';
  if (key) {
    // A retry of an attempt that committed: answered before anything is read or locked.
    const seen = await firstAnswer<TCustomerDto>(em, table, actor, key, hash);
    if (seen) return seen;
  }
  return mutate(em, actor, async (tx, record) => {
    const move = () => moveCustomer(tx, actor, record, unverifiedId, input);
    return key ? (await onceForKey(tx, table, actor, key, hash, move)).answer : move();
  });
}

/** The move itself, in the transfer's transaction. */
async function moveCustomer(
  tx: EntityManager,
  actor: TActor,
  record: (change: TChange) => void,
  unverifiedId: string,
  input: TTransfer,
): Promise<TCustomerDto> {
  const checked = await checkTransfer(tx, actor, unverifiedId, input, { lock: true });
  const { customer, parentName, target, card } = checked;
  const conversion = currencyConversion(customer, target, card, input.rate);
  // A balance kept moves from the old parent's books to the new one's (below): money
  // moves, so the key is needed as for a settlement (the customer's row is held now).
  if (!input.idempotencyKey && !new Money(customer.balance).isZero()) {
    throw invalidInput({
      idempotencyKey: 'is required when the customer has a balance, which the transfer moves',
    });
  }
  const scopeBefore = accountScopePath(customer);
  const held = await tx.findOne(
    CardAssignment,
    { account: customer.id },
    { populate: ['card', 'card.owner'] },
  );
  if (held) {
    const heldCard = toCardOwnerDto(held.card);
    tx.remove(held);
    await tx.flush();
    // The old card's owner is the old parent: its scope path is the customer's old one.
    record(assignmentChange(held, scopeBefore!, 'deleted', heldCard, { reason: 'transfer' }));
  }

  // A balance is closed on the old parent's books while the customer is still on its old
  // path, so that movement's log row (scoped by the path, ledger-store.ts) reaches the old
  // side alone: the new parent never receives the balance the customer had there, nor its
  // closing — live, in catch-up or in the audit. Kept, it is opened again on the new
  // parent's books below (converted when the currency changes): each parent's entries
  // with the customer then sum to what the customer holds with it, and a statement of
  // the new parent never opens on the old one's balance.
  const settle = input.balance === 'settle';
  const closed = await closeBalance(tx, actor, record, customer.id, {
    parentName,
    conversion,
    settle,
  });
  // The movement went through SQL: the entity takes its balance and version again.
  if (closed) await tx.refreshOrFail(customer);
  const before = toCustomerDto(customer, closed?.suspended ?? checked.suspended, parentName);

  const place = placeInTree(target, customer.id);
  customer.parent = target;
  customer.path = place.path;
  customer.depth = place.depth;
  // Suspended by its old side (off its new path): no longer that side's to hold, so its
  // new parent may resume it (one above both still may, as for any suspension).
  if (customer.suspendedByPath && !isWithin(customer.suspendedByPath, place.path)) {
    customer.suspendedByPath = null;
  }
  // From now on its calls are the new parent's; one that started before is not, however
  // late it comes or is re-rated (usage/rate-batch.ts: unrated `moved`). `placed_at` is
  // dated with its card spans, by the database's clock, once this holds the carrier's
  // commit order (settleSpansAtCommit below).
  if (conversion) {
    customer.currency = conversion.to;
    if (customer.creditLimit !== null && customer.creditLimit !== undefined) {
      customer.creditLimit = converted(customer.creditLimit, conversion.rate, 'creditLimit');
    }
    if (customer.warningThreshold !== null && customer.warningThreshold !== undefined) {
      customer.warningThreshold = converted(
        customer.warningThreshold,
        conversion.rate,
        'warningThreshold',
      );
    }
    // The closing was weighed against the old limit; the customer is held to the new one.
    const limit = customer.creditLimit ?? null;
    customer.creditBlocked = limit !== null && new Money(customer.balance).plus(limit).lte(0);
  }
  await tx.flush();
  const after = toCustomerDto(customer, await suspendedAncestors(tx, [customer]), target.name);
  record({
    resource: 'customers',
    entityId: customer.id,
    op: 'updated',
    version: customer.version,
    before: { ...before },
    after: { ...after },
    scopeBefore,
    scopeAfter: accountScopePath(customer),
    // Where from and where to are in before/after; each side is shown only its own.
    summary: { reason: 'transfer', ...(conversion ? { conversion } : {}) },
  });

  const assignment = tx.create(CardAssignment, { card, account: customer, exclusive: true });
  await tx.flush();
  record(assignmentChange(assignment, target.path, 'created', toCardOwnerDto(card)));
  // Its spans dated again, and its placing dated, once this holds the carrier's commit order.
  settleSpansAtCommit(record, carrierIdOf(target.path), [customer.id], { placedAt: true });
  if (!closed || settle) return after;
  const opened = await openBalance(tx, actor, record, customer.id, closed, conversion);
  return opened ?? after;
}

/**
 * The grants a transfer needs, it and its dry run alike: moving a customer is an edit of
 * it; settling or converting its balance also moves money through the ledger, which only
 * `payments:create` allows (permissions.ts: the money grants are not `customers:update`),
 * and so does keeping a balance that is not zero (`checkTransfer` asks, once it has read
 * the customer).
 */
export function assertCanTransfer(actor: TActor, input: TTransfer): void {
  assertCan(actor, 'customers:update');
  if (input.balance === 'settle' || input.rate !== undefined) assertCan(actor, 'payments:create');
}

/**
 * What a transfer and its dry run both check, in the caller's scope: the customer, the
 * target (the actor's account or one below it, not the current parent) and a customer
 * card the target owns. Anything outside is 404. With `lock` the card's row and then the
 * customer's are held to commit, before anything of the customer is read: a second
 * transfer of it waits, then reads where the first one put it (not a copy from before
 * that it would move again), and a user, group, card or brand being made in it (each
 * holds its account's row: `ownerLock`) is either committed before the check below or
 * made after the move, under the new parent's scope.
 */
export async function checkTransfer(
  em: EntityManager,
  actor: TActor,
  unverifiedId: string,
  input: TTransfer,
  options: { lock: boolean },
) {
  // The card first: a rate import holding it for seconds is waited for before the
  // customer's row is taken, which usage rating of the whole carrier may be waiting on
  // (it locks every account on a batch's paths, its carrier's first). An assignment of
  // the card takes the two in the same order.
  const { card, relation } = await findVisibleCard(em, actor, input.cardId, options);
  const {
    account: customer,
    suspended,
    parentName,
  } = await findScopedAccount(em, actor, 'customer', unverifiedId, options);
  // Any balance moves through the ledger, kept or settled: money, like a payment.
  if (!new Money(customer.balance).isZero()) assertCan(actor, 'payments:create');
  // The rate converts from the currency the caller saw; an earlier transfer may have
  // converted the customer since (read under its lock here).
  assertCurrencyAsSeen(customer, input.fromCurrency, 'fromCurrency');
  const target = await findParentForNew(em, actor, input.toParentId, 'toParentId');
  if (target.id === customer.parent!.id) {
    throw invalidInput({ toParentId: "is already the customer's parent" });
  }
  if (relation !== 'owner') throw notFound('card');
  if (card.owner.id !== target.id || card.kind !== 'customer') {
    throw invalidInput({ cardId: 'must be a customer card of the target account' });
  }
  // A working customer moved under a suspended account (or one below a suspended one)
  // would stop at once — a suspended reseller's whole subtree stops — with nothing in
  // the preview saying so. Refused, the dry run too; which account is suspended is not
  // said (one above the caller's reach may be).
  // (`suspended` also names accounts blocked for credit, `credit:<id>`: not a suspension.)
  if ([...suspended].every((id) => id.startsWith('credit:'))) {
    const path = onPathSql('id', target.path);
    const held = await em.execute<{ one: number }[]>(
      `select 1 as one from account where status = 'suspended' and ${path.sql} limit 1`,
      path.params,
    );
    if (held.length) {
      throw conflict(
        'target_suspended',
        'The account you move the customer under is suspended: the customer would stop at once. Resume it first, or choose another.',
        { fields: { toParentId: 'is suspended: the customer would stop at once' } },
      );
    }
  }
  await refuseOwnPeople(em, actor, customer);
  return { customer, suspended, parentName, target, card };
}

/**
 * A customer with people, groups or cards of its own (issue 19, customer self-care) is
 * not moved: a transfer moves the account alone, so they would stay on the old side's
 * screens, and its users holding the old reseller's groups would be locked out. Refused
 * (409, naming them, as a delete names its dependants) until a transfer carries them.
 * So is its own brand, which the old side set up (a portal's hostnames, its support
 * contacts): keyed by the account, it would pass to the new side, which could read and
 * repoint the old side's hostnames while the old side no longer sees them to free them.
 */
async function refuseOwnPeople(
  em: EntityManager,
  actor: TActor,
  customer: TAccount,
): Promise<void> {
  const own = await em.execute<{ resource: string; id: string; name: string }[]>(
    `(select 'users' as resource, id, email as name from app_user where account_id = ? limit 20)
     union all (select 'groups', id, name from user_group where account_id = ? limit 20)
     union all (select 'cards', id, name from card where owner_id = ? limit 20)
     union all (select 'brands', id, display_name from brand where id = ?)`,
    [customer.id, customer.id, customer.id, customer.id],
  );
  if (own.length) {
    throw conflict(
      'has_dependants',
      `${customer.name} has users, groups, cards or a brand of its own, which a transfer does not move yet: remove them first.`,
      { dependants: dependantsFor(actor, own.slice(0, 20)) },
    );
  }
}

export interface TConversion {
  from: string;
  to: string;
  rate: string;
}

/**
 * The currency rule of a transfer (issue 17): the customer keeps its currency, so the
 * target must be in it and so must the card it gets there — unless the request names a
 * `rate`, and then the customer takes the target's currency (the audit keeps the rate).
 */
export function currencyConversion(
  customer: TAccount,
  target: TAccount,
  card: { currency: string },
  rate: string | undefined,
): TConversion | null {
  if (target.currency === customer.currency) {
    if (rate !== undefined) {
      throw invalidInput({ rate: `applies only between currencies; both are ${target.currency}` });
    }
    if (card.currency !== customer.currency) throw currencyMismatch(card.currency, customer);
    return null;
  }
  if (rate === undefined) {
    throw conflict(
      'currency_mismatch',
      `${customer.name} is kept in ${customer.currency} and ${target.name} in ${target.currency}: name a conversion \`rate\` to move it.`,
      { fromCurrency: customer.currency, toCurrency: target.currency },
    );
  }
  if (card.currency !== target.currency) throw currencyMismatch(card.currency, target);
  return { from: customer.currency, to: target.currency, rate };
}

export function converted(amount: string, rate: string, field: string): string {
  const value = new Money(amount).times(rate).toDecimalPlaces(6, Money.ROUND_HALF_UP);
  if (value.abs().gte('1e12')) {
    throw conflict('balance_out_of_range', `The converted ${field} would be out of range.`, {
      fields: { rate: `takes ${field} out of range` },
    });
  }
  return value.toFixed(6);
}

/** The references of a balance kept in its currency: closed on the old books, opened on the new. */
const KEPT_CLOSED = 'Transfer: balance carried to the new parent';
const KEPT_OPENED = 'Transfer: balance brought from the previous parent';

/**
 * A balance moves through the ledger, never by rewriting it: an adjustment closes it on
 * the old parent's books, in the currency it was kept in — posted before the customer
 * leaves, so it is on the old side's books and in its view alone. Settled (`balance:
 * 'settle'`), that is all: the customer starts at zero under its new parent; kept,
 * `openBalance` opens it on the new one's. Nothing to close (a zero balance) answers null.
 */
async function closeBalance(
  tx: EntityManager,
  actor: TActor,
  record: (change: TChange) => void,
  customerId: string,
  how: { parentName: string; conversion: TConversion | null; settle: boolean },
): Promise<{ balance: string; reference: string; suspended: Set<string> } | null> {
  const { conversion } = how;
  // A reference holds 200 characters, and an account's name alone may have as many.
  const reference = (
    how.settle
      ? `Transfer: balance settled with ${how.parentName}`
      : conversion
        ? `Transfer: ${conversion.from} to ${conversion.to} at ${conversion.rate}`
        : // Neither side is told where the customer went or came from (the transfer's log
          // shows each side only its own): the references name neither parent.
          KEPT_CLOSED
  )
    // By characters, not UTF-16 units: a long name's emoji is not cut in half.
    .match(/^[\s\S]{0,200}/u)![0];
  const locked = await readAccountInScope(tx, actor, customerId, { lock: true });
  const balance = locked.account.balance;
  if (new Money(balance).isZero()) return null;
  await postEntry(
    tx,
    actor,
    record,
    locked,
    {
      kind: 'adjustment',
      amount: new Money(balance).negated().toFixed(6),
      reference,
      quiet: true,
    },
    conversion ? { conversion } : {},
  );
  // postEntry kept the set of blocks on the path up to date with the movement.
  return { balance, reference, suspended: locked.suspended };
}

/**
 * Kept (`keep`), another adjustment opens the closed balance on the new parent's books,
 * once the customer is under it — converted at the rate across currencies: so each
 * parent's (and each currency's) entries still sum to what the account holds with it
 * (nothing, for the old one), and the new parent reads only the opening on its own
 * books. A balance too small to survive the rate (it rounds to nothing) stays closed: null.
 */
async function openBalance(
  tx: EntityManager,
  actor: TActor,
  record: (change: TChange) => void,
  customerId: string,
  closed: { balance: string; reference: string },
  conversion: TConversion | null,
): Promise<TCustomerDto | null> {
  const amount = conversion
    ? converted(closed.balance, conversion.rate, 'balance')
    : new Money(closed.balance).toFixed(6);
  if (new Money(amount).isZero()) return null;
  const locked = await readAccountInScope(tx, actor, customerId, { lock: true });
  const opened = await postEntry(
    tx,
    actor,
    record,
    locked,
    {
      kind: 'adjustment',
      amount,
      reference: conversion ? closed.reference : KEPT_OPENED,
      quiet: true,
    },
    conversion ? { conversion } : {},
  );
  return toCustomerDto(opened.account, locked.suspended, locked.parentName);
}
