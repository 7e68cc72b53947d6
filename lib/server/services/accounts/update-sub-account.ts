import type { EntityManager } from '@mikro-orm/postgresql';
import type { TActor } from '@/lib/server/authz/actor';
import { assertCan } from '@/lib/server/authz/can';
import { accountScopePath } from '@/lib/server/authz/scope';
import { conflict, staleVersion } from '@/lib/server/errors/domain-error';
import { mutate } from '@/lib/server/live/change-log';
import type { TAccountChangeSummary } from '@/lib/shared/live/change-summary';
import type {
  TCustomerDto,
  TCustomerPatch,
  TResellerDto,
  TResellerPatch,
} from '@/lib/shared/schemas/accounts';
import { findScopedAccount, type TSubAccountKind } from './account-scope';
import { suspendedAncestors, toAccountDto } from './account-dto';
import { ancestorIds } from './account-tree';
import { grantFor, SUB_ACCOUNT } from './sub-account-kinds';

/** A reseller's effective status moved, and with it everything below it. */
const STATUS_CASCADE: TAccountChangeSummary = {
  refetch: ['resellers', 'customers'],
  reason: 'status_cascade',
};

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
    const account = await findScopedAccount(tx, actor, kind, unverifiedId);
    const suspended = await suspendedAncestors(tx, [account]);
    const before = toAccountDto(account, suspended);
    if (patch.version !== account.version) throw staleVersion(before);

    const currentParent = ancestorIds(account.path).at(-2);
    if (patch.parentId !== undefined && patch.parentId !== currentParent) {
      throw kind === 'customer'
        ? conflict(
            'transfer_required',
            'A customer moves only through POST /api/v1/customers/{id}/transfer.',
          )
        : conflict('parent_immutable', "A reseller's parent account never changes.");
    }
    if (patch.name !== undefined) account.name = patch.name;
    if (patch.email !== undefined) account.email = patch.email;
    const ownStatusBefore = account.status;
    if (patch.status !== undefined) account.status = patch.status;
    if ('creditLimit' in patch && patch.creditLimit !== undefined)
      account.creditLimit = patch.creditLimit;
    await tx.flush();

    // Only the account's own status can have changed here; the ancestors' are as read.
    if (account.status === 'suspended') suspended.add(account.id);
    else suspended.delete(account.id);
    const after = toAccountDto(account, suspended);
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
        // Everything below a reseller takes its effective status from it: one row for the
        // bulk change, telling viewers to refetch (DESIGN §2), not one row per account.
        ...(kind === 'reseller' && account.status !== ownStatusBefore
          ? { summary: STATUS_CASCADE }
          : {}),
      });
    }
    return after;
  });
}
