import { OptimisticLockError } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { TActor } from '@/lib/server/authz/actor';
import { assertCan } from '@/lib/server/authz/can';
import { accountScopePath, carrierIdOf, isBelow, isWithin } from '@/lib/server/authz/scope';
import {
  conflict,
  DomainError,
  invalidInput,
  staleVersion,
} from '@/lib/server/errors/domain-error';
import { atCommitLast, mutate } from '@/lib/server/live/change-log';
import { directQuery, pgArray } from '@/lib/server/db/direct-query';
import type { TAccountChangeSummary } from '@/lib/shared/live/change-summary';
import type {
  TCustomerDto,
  TCustomerPatch,
  TResellerDto,
  TResellerPatch,
} from '@/lib/shared/schemas/accounts';
import { accountFromRow, readScopedAccount, type TSubAccountKind } from './account-scope';
import { creditKey, toAccountDto, type TAccountFields } from './account-dto';
import { ancestorIds } from './account-tree';
import { grantFor, SUB_ACCOUNT } from './sub-account-kinds';
import { noticeCreditCrossing } from '@/lib/server/services/ledger/credit-notice';

/**
 * What else an edit makes stale, to be refetched by those who read it (DESIGN §2): a
 * reseller's status moves the effective status of everything below it; an account's
 * name is carried by its users and assignments (`accountName`) and its sub-accounts
 * (`parentName`).
 * One row for the bulk change, not one row per account below.
 */
function knockOn(
  kind: TSubAccountKind,
  before: TAccountFields,
  after: TAccountFields,
): TAccountChangeSummary | undefined {
  const cascade =
    kind === 'reseller' &&
    (after.status !== before.status || after.creditBlocked !== before.creditBlocked);
  const renamed = after.name !== before.name;
  if (!cascade && !renamed) return undefined;
  return {
    refetch: [
      ...(kind === 'reseller' ? (['resellers', 'customers'] as const) : []),
      // Its users' `accountName`, and the assignments' of the cards it holds.
      ...(renamed ? (['users', 'assignments'] as const) : []),
    ],
    reason: !cascade
      ? 'renamed'
      : after.status !== before.status
        ? 'status_cascade'
        : 'credit_cascade',
  };
}

/**
 * Edits a reseller or customer in scope. Optimistic: the body names the version it was
 * based on, and a stale one gets 409 with the current entity. The parent never changes
 * here: a reseller's never (v1), a customer's only through the transfer operation.
 * Suspending takes effect on the next request of every user below (actor check).
 */
export async function updateSubAccount(
  em: EntityManager,
  actor: TActor,
  kind: TSubAccountKind,
  unverifiedId: string,
  patch: TResellerPatch | TCustomerPatch,
): Promise<TResellerDto | TCustomerDto> {
  assertCan(actor, grantFor(kind, 'update'));
  return mutate(em, actor, async (tx, record) => {
    const {
      account: found,
      suspended,
      parentName,
    } = await readScopedAccount(tx, actor, kind, unverifiedId, { lock: true });
    // Compared under the row's lock: a rating batch or a payment still open moves the
    // version with the balance. Read before that commit, the version would match and the
    // update then find it gone: a bare 409 without the current account, which the form
    // needs to tell "only the balance moved" and save again.
    const before = toAccountDto(found, suspended, parentName);
    if (patch.version !== found.version) throw staleVersion(before);

    const currentParent = ancestorIds(found.path).at(-2);
    if (patch.parentId !== undefined && patch.parentId !== currentParent) {
      throw kind === 'customer'
        ? conflict(
            'transfer_required',
            'A customer moves only through POST /api/v1/customers/{id}/transfer.',
          )
        : conflict('parent_immutable', "A reseller's parent account never changes.");
    }
    if (patch.currency !== undefined && patch.currency !== found.currency) {
      throw invalidInput({ currency: 'is fixed once the account exists' });
    }
    // Who holds a suspension (`assertMayResume`), when the patch touches one.
    const suspendedBy =
      patch.status !== undefined && found.status === 'suspended'
        ? await suspenderOf(tx, found.id)
        : null;
    if (patch.status === 'active' && found.status === 'suspended') {
      assertMayResume(actor, suspendedBy);
    }
    // Suspended again from higher up (one by one or in bulk): the suspension is the
    // higher account's now, and the one below cannot lift it.
    const reclaim =
      patch.status === 'suspended' &&
      found.status === 'suspended' &&
      (suspendedBy === null || isBelow(actor.account.path, suspendedBy));
    const account = await writeChanges(tx, found, patch, actor.account.path, reclaim);
    if (account.status !== found.status) {
      atCommitLast(
        record,
        carrierIdOf(account.path),
        'suspension-dates',
        `${account.status}:${account.id}`,
        dateSuspensionsAtCommit,
      );
    }

    // Only the account's own status can have changed here; the ancestors' are as read.
    if (account.status === 'suspended') suspended.add(account.id);
    else suspended.delete(account.id);
    if (account.creditBlocked) suspended.add(creditKey(account.id));
    else suspended.delete(creditKey(account.id));
    const after = toAccountDto(account, suspended, parentName);
    if (after.version !== before.version) {
      record({
        resource: SUB_ACCOUNT[kind].resource,
        entityId: account.id,
        op: 'updated',
        version: account.version,
        before: { ...before },
        after: { ...after },
        scopeBefore: accountScopePath(account),
        scopeAfter: accountScopePath(account),
        summary: knockOn(kind, found, account),
      });
    }
    // A new limit moves available credit as a payment would: the same notices.
    if (patch.creditLimit !== undefined) await noticeCreditCrossing(tx, record, found, account);
    return after;
  });
}

/**
 * The suspensions this transaction opened or closed (`account_suspension`, a trigger's
 * rows at the UPDATE) dated again at its very end, in the carrier's commit order, after
 * its log rows — in one statement each way, however many a bulk change made: dated at
 * the UPDATE, or a bulk's first one by the time its last was written, a suspension began
 * before it could be seen — a call `POST /authorize` let through meanwhile, the account
 * still active to it, was then judged made while suspended, and never charged. (A
 * rating batch holds the accounts' rows, which the UPDATEs hold to commit: it reads the
 * spans dated.) One instant for all (`statement_timestamp()`), taken after the log rows.
 * `items`: `<status>:<account id>`.
 */
async function dateSuspensionsAtCommit(tx: EntityManager, items: string[]): Promise<void> {
  const of = (status: string) =>
    items.filter((item) => item.startsWith(`${status}:`)).map((item) => item.split(':')[1]!);
  const [suspended, resumed] = [of('suspended'), of('active')];
  if (suspended.length) {
    await directQuery(
      tx,
      `update account_suspension set from_at = statement_timestamp()
        where account_id = any(?::uuid[]) and to_at is null`,
      [pgArray(suspended)],
    );
  }
  if (resumed.length) {
    await directQuery(
      tx,
      `update account_suspension s set to_at = greatest(s.from_at, statement_timestamp())
        where s.account_id = any(?::uuid[])
          and s.to_at = (select max(x.to_at) from account_suspension x
                          where x.account_id = s.account_id)`,
      [pgArray(resumed)],
    );
  }
}

/** The path of the account whose person suspended it (null: active, or not kept). */
async function suspenderOf(tx: EntityManager, accountId: string): Promise<string | null> {
  const [row] = await directQuery<{ path: string | null }>(
    tx,
    `select suspended_by_path as path from account where id = ?`,
    [accountId],
  );
  return row?.path ?? null;
}

/**
 * A suspension is lifted only from the account that set it or one above it: a carrier
 * suspending a customer (for fraud, say) is not undone by the customer's reseller, who
 * may edit the customer but stands below the carrier. 403 `suspended_above`; an account
 * suspended before this was kept (`suspended_by_path` null) resumes as before.
 */
function assertMayResume(actor: TActor, suspendedBy: string | null): void {
  if (suspendedBy && !isWithin(actor.account.path, suspendedBy)) {
    throw new DomainError(
      'forbidden',
      'suspended_above',
      'This account was suspended by an account above yours: only it, or one above it, can resume it.',
    );
  }
}

/** The patchable fields and their columns. */
const COLUMNS = {
  name: 'name',
  email: 'email',
  status: 'status',
  creditLimit: 'credit_limit',
  warningThreshold: 'warning_threshold',
} as const;

/**
 * The patch's changed fields in one versioned UPDATE, answering the account as it
 * returns it — what `flush()` did, without the unit of work's change-set pass, the
 * costliest step of an edit after the database's own (issue 14, docs/bench.md). Nothing
 * changed writes nothing and keeps the version, as a flush would. A version moved by
 * another transaction since the read fails as a flush's would (409).
 */
async function writeChanges(
  tx: EntityManager,
  account: TAccountFields,
  patch: TResellerPatch | TCustomerPatch,
  actorPath: string,
  reclaim: boolean,
): Promise<TAccountFields> {
  const sets: string[] = [];
  const values: unknown[] = [];
  for (const field of Object.keys(COLUMNS) as (keyof typeof COLUMNS)[]) {
    const value = (patch as Partial<Record<keyof typeof COLUMNS, string | null>>)[field];
    if (value === undefined || value === (account[field] ?? null)) continue;
    sets.push(`${COLUMNS[field]} = ?`);
    values.push(value);
  }
  if (patch.status !== undefined && (patch.status !== account.status || reclaim)) {
    // Who suspended it, by place in the tree (`assertMayResume`); resumed: nobody.
    sets.push('suspended_by_path = ?');
    values.push(patch.status === 'suspended' ? actorPath : null);
  }
  if (sets.length === 0) return account;
  if (patch.creditLimit !== undefined) {
    // Blocked for credit moves with the limit, in the same statement (issue 17).
    sets.push('credit_blocked = (?::numeric is not null and balance + ?::numeric <= 0)');
    values.push(patch.creditLimit, patch.creditLimit);
  }
  const [row] = await directQuery(
    tx,
    `update account set ${sets.join(', ')}, updated_at = ?, version = version + 1
      where id = ? and version = ? returning *`,
    [...values, new Date(), account.id, account.version],
  );
  if (!row) throw OptimisticLockError.lockFailed('Account');
  return accountFromRow(row);
}
