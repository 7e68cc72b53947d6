import type { EntityManager } from '@mikro-orm/postgresql';
import { Account } from '@/lib/server/entities';
import type { TActor } from '@/lib/server/authz/actor';
import { assertCan } from '@/lib/server/authz/can';
import { accountScopePath } from '@/lib/server/authz/scope';
import { DomainError } from '@/lib/server/errors/domain-error';
import { mutate } from '@/lib/server/live/change-log';
import { Money } from '@/lib/shared/pricing/money';
import type {
  TCustomerCreate,
  TCustomerDto,
  TResellerCreate,
  TResellerDto,
} from '@/lib/shared/schemas/accounts';
import { placeInTree } from './account-tree';
import { findParentForNew, type TSubAccountKind } from './account-scope';
import { suspendedAncestors, toAccountDto } from './account-dto';
import { grantFor, SUB_ACCOUNT } from './sub-account-kinds';

/**
 * Adds a reseller or a customer under the actor's account (or under a reseller in its
 * subtree). Customers have no children; resellers nest at most `resellerDepthLimit`
 * levels below the carrier.
 */
export async function createSubAccount(
  em: EntityManager,
  actor: TActor,
  kind: TSubAccountKind,
  input: TResellerCreate | TCustomerCreate,
  options: { resellerDepthLimit: number },
): Promise<TResellerDto | TCustomerDto> {
  assertCan(actor, grantFor(kind, 'create'));
  return mutate(em, actor, async (tx, record) => {
    const parent = await findParentForNew(tx, actor, input.parentId);
    if (parent.kind === 'customer') {
      throw new DomainError(
        'invalid_input',
        'invalid_input',
        'A customer cannot have sub-accounts.',
        {
          fields: { parentId: 'must be a carrier or a reseller' },
        },
      );
    }
    if (kind === 'reseller' && parent.depth + 1 > options.resellerDepthLimit) {
      throw new DomainError(
        'invalid_input',
        'invalid_input',
        `Resellers nest at most ${options.resellerDepthLimit} levels deep.`,
        {
          fields: { parentId: `is already ${parent.depth} levels below the carrier` },
        },
      );
    }
    const creditLimit = input.creditLimit ?? null;
    const account = tx.create(Account, {
      ...placeInTree(parent),
      parent,
      kind,
      name: input.name,
      email: input.email ?? null,
      currency: input.currency ?? parent.currency,
      creditLimit,
      // A new account's balance is zero: a limit of zero (prepaid) has no credit yet.
      creditBlocked: creditLimit !== null && new Money(creditLimit).lte(0),
    });
    await tx.flush();
    const dto = toAccountDto(account, await suspendedAncestors(tx, [account]), parent.name);
    record({
      resource: SUB_ACCOUNT[kind].resource,
      entityId: account.id,
      op: 'created',
      version: account.version,
      before: null,
      after: { ...dto },
      scopeBefore: null,
      scopeAfter: accountScopePath(account),
    });
    return dto;
  });
}
