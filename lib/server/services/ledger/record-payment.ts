import type { EntityManager } from '@mikro-orm/postgresql';
import type { TActor } from '@/lib/server/authz/actor';
import { assertCan } from '@/lib/server/authz/can';
import { conflict, DomainError } from '@/lib/server/errors/domain-error';
import { mutate } from '@/lib/server/live/change-log';
import type { TPaymentCreate, TPaymentRecorded } from '@/lib/shared/schemas/ledger';
import type { TGrant } from '@/lib/shared/permissions';
import { readAccountInScope } from '@/lib/server/services/accounts/account-scope';
import { keyedEntry, postEntry, toBalanceDto, type TEntryInput } from './ledger-store';
import { suspendedAncestors } from '@/lib/server/services/accounts/account-dto';
import { ledgerEntryDtos } from './list-ledger';

/**
 * `POST /accounts/{id}/payments`: the account's parent side (the parent or an account
 * above it, with `payments:create`) records money received from it.
 */
export async function recordPayment(
  em: EntityManager,
  actor: TActor,
  unverifiedId: string,
  input: TPaymentCreate,
): Promise<TPaymentRecorded> {
  return recordMovement(
    em,
    actor,
    unverifiedId,
    {
      kind: 'payment',
      amount: input.amount,
      reference: input.reference ?? null,
      idempotencyKey: input.idempotencyKey,
    },
    input.currency,
  );
}

/**
 * The currency a request's amount (or rate) was written in, against the account's under
 * its lock: a transfer to another currency may have committed since the caller read it,
 * and the figure would then be taken in a currency nobody asked for. 409, naming it.
 */
export function assertCurrencyAsSeen(
  account: { name: string; currency: string },
  seen: string | undefined,
  field: string,
): void {
  if (seen === undefined || seen === account.currency) return;
  throw conflict(
    'currency_changed',
    `${account.name} is kept in ${account.currency} now, not ${seen}: read it again and send the figures in ${account.currency}.`,
    { fields: { [field]: `is ${account.currency} now` } },
  );
}

/**
 * One movement of an account's balance by its parent side: a payment, a credit note or an
 * adjustment, each under its own grant. Anything not strictly below the actor is 404; the
 * actor's own account is refused (an account does not pay itself). The account's row
 * is locked first, so concurrent retries of one key queue behind each other and the
 * later ones find the first's entry.
 */
export async function recordMovement(
  em: EntityManager,
  actor: TActor,
  unverifiedId: string,
  input: TEntryInput,
  /** The currency the caller wrote `amount` in, when it says (a payment's `currency`). */
  currency?: string,
  grant: TGrant = 'payments:create',
): Promise<TPaymentRecorded> {
  assertCan(actor, grant);
  if (unverifiedId === actor.account.id) {
    throw new DomainError(
      'forbidden',
      'own_account',
      "An account's payments and corrections are recorded by its parent's side, not by itself.",
    );
  }
  return mutate(em, actor, async (tx, record) => {
    const locked = await readAccountInScope(tx, actor, unverifiedId, { lock: true });
    // A retry is answered before the currency is compared: the first attempt may have
    // committed before a transfer converted the account, and its figures stand.
    const seen = await keyedEntry(tx, actor, locked.account.id, input, currency);
    if (!seen) assertCurrencyAsSeen(locked.account, currency, 'currency');
    const { entry, account, replayed } = seen
      ? { entry: seen, account: locked.account, replayed: true }
      : await postEntry(tx, actor, record, locked, input);
    const [dto] = await ledgerEntryDtos(tx, actor, [entry]);
    const blocking = await suspendedAncestors(tx, [account]);
    return { entry: dto!, balance: toBalanceDto(account, blocking), replayed };
  });
}
