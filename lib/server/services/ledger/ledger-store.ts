import { createHash } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { TActor } from '@/lib/server/authz/actor';
import { accountScopePath } from '@/lib/server/authz/scope';
import { directQuery } from '@/lib/server/db/direct-query';
import { conflict } from '@/lib/server/errors/domain-error';
import type { TChange } from '@/lib/server/live/change-log';
import { Money } from '@/lib/shared/pricing/money';
import type { TBalanceDto, TLedgerKind } from '@/lib/shared/schemas/ledger';
import type { TAccountChangeSummary } from '@/lib/shared/live/change-summary';
import { accountFromRow } from '@/lib/server/services/accounts/account-scope';
import type { TLiveResource } from '@/lib/shared/live/change';
import {
  atScale,
  creditBlock,
  creditKey,
  toAccountDto,
  type TAccountFields,
} from '@/lib/server/services/accounts/account-dto';
import { ancestorIds } from '@/lib/server/services/accounts/account-tree';
import { noticeCreditCrossing } from './credit-notice';

/** A ledger row as `select *` / `returning *` gives it (numeric and timestamps as text). */
export interface TLedgerRow {
  id: string;
  account_id: string;
  counterparty_id: string | null;
  kind: TLedgerKind;
  amount: string;
  currency: string;
  balance_after: string;
  reference: string | null;
  idempotency_key: string | null;
  request_hash: string | null;
  actor_user_id: string | null;
  actor_account_id: string | null;
  impersonator_user_id: string | null;
  created_at: string;
}

/** The account's balance columns may hold 12 integer digits (numeric(18,6)). */
const BALANCE_LIMIT = new Money('1e12');

/**
 * An entry's time: the database's clock when it is written, under its account's lock,
 * to the millisecond (as every reader takes it). A statement splits months by entry time
 * and reads balances by id (statement-figures.ts), so the times must follow the ids per
 * account; each process's own clock would not when one runs behind another.
 */
export const LEDGER_CLOCK = `date_trunc('milliseconds', clock_timestamp())`;

export interface TEntryInput {
  kind: TLedgerKind;
  /** Signed decimal string: positive credits the account. */
  amount: string;
  reference?: string | null;
  /**
   * Payments and corrections: the attempt's key, unique per account and recording side
   * (`keyedEntry`, which the caller asks first under the account's lock).
   */
  idempotencyKey?: string;
  /**
   * No credit notice for this movement: a transfer's conversion closes and reopens the
   * balance, which is no crossing of the customer's credit.
   */
  quiet?: boolean;
}

/** The fingerprint of what a keyed request asked for: a retry must ask the same. */
export function requestHash(input: TEntryInput): string {
  // An empty reference is stored as none: a retry that leaves it out asks the same.
  return entryHash(input, input.reference || null);
}

/**
 * What a stored key's request may have hashed to: as now, and, for an empty reference,
 * as keys stored before 2026-12-06 hashed it (as written), so their retries still match.
 */
function storedHashes(input: TEntryInput): string[] {
  return [requestHash(input), entryHash(input, input.reference ?? null)];
}

function entryHash(input: TEntryInput, reference: string | null): string {
  const normalized = JSON.stringify([input.kind, new Money(input.amount).toFixed(6), reference]);
  return createHash('sha256').update(normalized).digest('hex');
}

/**
 * The entry a keyed request wrote before, if it did: the key is the recording side's own
 * (the account `actor` acts for), so nobody else's payment of the same account answers it.
 * The same key with another request — another account, amount, reference or kind, or
 * figures sent in another currency than the entry's — is 409 `idempotency_conflict`. A
 * replay is answered even after the account moved to another parent or currency: the side
 * that recorded it still has the account in scope (it is locked by the caller), so it is
 * above the books the entry is on and reads it — telling it to pay again would count the
 * money twice. Call it under the account's row lock, before `postEntry`.
 */
export async function keyedEntry(
  tx: EntityManager,
  actor: TActor,
  accountId: string,
  input: TEntryInput,
  /** The currency the caller wrote the amount in, when it said. */
  currency?: string,
): Promise<TLedgerRow | null> {
  if (!input.idempotencyKey) return null;
  // The caller holds only this account's lock: the same key sent for another account at
  // the same moment would find no entry either and pay as well. The side's key is held to
  // commit, so the later request reads the first one's entry (hashtext may make two keys
  // share a lock: they then only wait for each other).
  await tx.execute(`select pg_advisory_xact_lock(hashtext('movement-key:' || ? || ':' || ?))`, [
    actor.account.id,
    input.idempotencyKey,
  ]);
  // The recording side's key, whichever account it paid (Migration20261227100000); this
  // account's own entry first, should older rows share the key across accounts.
  const [seen] = await directQuery<TLedgerRow>(
    tx,
    `select * from ledger_entry
      where actor_account_id = ? and idempotency_key = ? and kind <> 'usage'
      order by account_id = ? desc limit 1`,
    [actor.account.id, input.idempotencyKey, accountId],
  );
  if (!seen) return null;
  if (seen.account_id !== accountId) {
    // Another account's: the request changed, or a client sent it to the wrong account.
    // Nothing of that entry is told: the account may have left the caller's scope since.
    throw conflict(
      'idempotency_conflict',
      'This idempotency key was used for a movement of another account; use a new key for a new payment.',
      { fields: { idempotencyKey: 'was used for another account' } },
    );
  }
  if (
    !storedHashes(input).includes(seen.request_hash ?? '') ||
    (currency !== undefined && currency !== seen.currency)
  ) {
    // What the key recorded, so a client whose first answer was lost can say what landed
    // (the recording side's own entry, on an account it holds in scope).
    throw conflict(
      'idempotency_conflict',
      'This idempotency key was used for another request; use a new key for a new payment.',
      {
        fields: { idempotencyKey: 'was used for another request' },
        current: {
          kind: seen.kind,
          amount: seen.amount,
          currency: seen.currency,
          reference: seen.reference,
          at: new Date(seen.created_at).toISOString(),
        },
      },
    );
  }
  return seen;
}

/**
 * Appends one movement to the ledger and moves the account's balance with it, inside the
 * caller's transaction (`mutate`), recording the account's change so the balance moves
 * live on every panel that shows it (the account's parent side and above, and its own
 * people through their own-account signal).
 *
 * `locked` must be the account as read under its row lock in this transaction (one
 * movement of an account at a time): so a retry that waited for the first attempt's
 * commit finds its entry (`keyedEntry`, asked first by a keyed caller) and counts nothing
 * — the unique key is the backstop.
 */
export async function postEntry(
  tx: EntityManager,
  actor: TActor | null,
  record: (change: TChange) => void,
  locked: { account: TAccountFields; suspended: Set<string>; parentName: string },
  input: TEntryInput,
  summaryExtra: Partial<Extract<TAccountChangeSummary, { reason: 'ledger' }>> = {},
): Promise<{ entry: TLedgerRow; account: TAccountFields; replayed: boolean }> {
  const { account, suspended, parentName } = locked;
  const hash = input.idempotencyKey ? requestHash(input) : null;
  // Always the books of the parent on the account's path now: its change below is scoped
  // by that path, so the entry and who hears of it cannot part (a transfer closes the old
  // parent's books before the customer moves).
  const parentId = ancestorIds(account.path).at(-2) ?? null;
  const next = new Money(account.balance).plus(input.amount);
  if (next.abs().gte(BALANCE_LIMIT)) {
    throw conflict('balance_out_of_range', 'The balance would leave the range it is kept in.', {
      fields: { amount: 'would take the balance out of range' },
    });
  }
  const [entry] = await directQuery<TLedgerRow>(
    tx,
    `insert into ledger_entry (account_id, counterparty_id, kind, amount, currency, balance_after,
       reference, idempotency_key, request_hash, actor_user_id, actor_account_id,
       impersonator_user_id, created_at)
     values (?, ?, ?, ?::numeric, ?, ?::numeric, ?, ?, ?, ?, ?, ?, ${LEDGER_CLOCK})
     returning *`,
    [
      account.id,
      parentId,
      input.kind,
      input.amount,
      account.currency,
      next.toFixed(6),
      // An empty reference is none (requestHash hashes it so).
      input.reference || null,
      input.idempotencyKey ?? null,
      hash,
      actor?.userId ?? null,
      actor?.account.id ?? null,
      actor?.impersonatorUserId ?? null,
    ],
  );
  const [row] = await directQuery(
    tx,
    `update account set balance = balance + ?::numeric,
            credit_blocked = (credit_limit is not null and balance + ?::numeric + credit_limit <= 0),
            updated_at = ?, version = version + 1
      where id = ? returning *`,
    [input.amount, input.amount, new Date(), account.id],
  );
  const after = accountFromRow(row!);
  // Blocked or unblocked for credit in this very transaction; below a reseller too.
  if (after.creditBlocked) suspended.add(creditKey(after.id));
  else suspended.delete(creditKey(after.id));
  const cascade =
    after.kind === 'reseller' && after.creditBlocked !== account.creditBlocked
      ? { refetch: ['resellers', 'customers'] as TLiveResource[] }
      : {};
  record(
    balanceChange(account, after, suspended, parentName, entry!, { ...summaryExtra, ...cascade }),
  );
  if (!input.quiet) await noticeCreditCrossing(tx, record, account, after);
  return { entry: entry!, account: after, replayed: false };
}

/**
 * The account's change for a movement: its DTO before and after, the entry named. Scoped
 * by the account's path, whose parent is the entry's counterparty (`postEntry`): those at
 * or above the books it moved on, as `booksSql` reads the ledger.
 */
function balanceChange(
  before: TAccountFields,
  after: TAccountFields,
  suspended: Set<string>,
  parentName: string,
  entry: TLedgerRow,
  extra: Partial<Extract<TAccountChangeSummary, { reason: 'ledger' }>>,
): TChange {
  return {
    resource: after.kind === 'customer' ? 'customers' : 'resellers',
    entityId: after.id,
    op: 'updated',
    version: after.version,
    before: { ...toAccountDto(before, blockingBefore(before, suspended), parentName) },
    after: { ...toAccountDto(after, suspended, parentName) },
    scopeBefore: accountScopePath(after),
    scopeAfter: accountScopePath(after),
    summary: {
      reason: 'ledger',
      kind: entry.kind,
      amount: atScale(entry.amount),
      currency: entry.currency,
      entryId: entry.id,
      ...extra,
    },
  };
}

/** The blocking set as it was before the movement (only the account's own entry moved). */
function blockingBefore(before: TAccountFields, now: Set<string>): Set<string> {
  const then = new Set(now);
  if (before.creditBlocked) then.add(creditKey(before.id));
  else then.delete(creditKey(before.id));
  return then;
}

/**
 * The balance as `GET /accounts/{id}/balance` answers it. `blocking` is the account's path
 * as `suspendedAncestors` reads it: whether calls are refused for credit here (`own`) or
 * above it (`above`) — a customer's own people see only this, never the accounts above.
 */
export function toBalanceDto(account: TAccountFields, blocking: Set<string>): TBalanceDto {
  const limit = account.creditLimit ?? null;
  return {
    accountId: account.id,
    currency: account.currency,
    balance: atScale(account.balance),
    creditLimit: limit === null ? null : atScale(limit),
    available: new Money(account.balance).plus(limit ?? '0').toFixed(6),
    creditBlocked: account.creditBlocked,
    creditBlock: creditBlock(account, blocking),
    warningThreshold:
      account.warningThreshold === null || account.warningThreshold === undefined
        ? null
        : atScale(account.warningThreshold),
    version: account.version,
  };
}
