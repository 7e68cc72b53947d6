import type { EntityManager } from '@mikro-orm/postgresql';
import { CardAssignment } from '@/lib/server/entities';
import type { TActor } from '@/lib/server/authz/actor';
import { assertCan } from '@/lib/server/authz/can';
import { accountScopePath } from '@/lib/server/authz/scope';
import { invalidInput, notFound } from '@/lib/server/errors/domain-error';
import { mutate } from '@/lib/server/live/change-log';
import type { TCustomerDto } from '@/lib/shared/schemas/accounts';
import type { TTransfer } from '@/lib/shared/schemas/cards';
import { findVisibleCard, toCardOwnerDto } from '@/lib/server/services/cards/card-store';
import { assignmentChange } from '@/lib/server/services/assignments/assignment-store';
import { findParentForNew, findScopedAccount } from './account-scope';
import { placeInTree } from './account-tree';
import { suspendedAncestors, toCustomerDto } from './account-dto';

/**
 * `POST /customers/{id}/transfer` (DESIGN §1 "Customer moves"): the only way a customer
 * changes parent. Target and card are named and checked inside the caller's scope; the
 * move, the end of the old card and the start of the new one are one transaction,
 * effective at once. The customer's log row moves its scope path, so the old parent's
 * side receives `customers.removed` and the new one `customers.added`; the assignment
 * rows and the summary make the audit record complete.
 */
export async function transferCustomer(
  em: EntityManager,
  actor: TActor,
  unverifiedId: string,
  input: TTransfer,
): Promise<TCustomerDto> {
  assertCan(actor, 'customers:update');
  return mutate(em, actor, async (tx, record) => {
    const {
      account: customer,
      suspended,
      parentName,
    } = await findScopedAccount(tx, actor, 'customer', unverifiedId);
    const target = await findParentForNew(tx, actor, input.toParentId);
    const fromParentId = customer.parent!.id;
    if (target.id === fromParentId) {
      throw invalidInput({ toParentId: "is already the customer's parent" });
    }
    const { card, relation } = await findVisibleCard(tx, actor, input.cardId, { lock: true });
    if (relation !== 'owner') throw notFound('card');
    if (card.owner.id !== target.id || card.kind !== 'customer') {
      throw invalidInput({ cardId: 'must be a customer card of the target account' });
    }

    const before = toCustomerDto(customer, suspended, parentName);
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

    const place = placeInTree(target, customer.id);
    customer.parent = target;
    customer.path = place.path;
    customer.depth = place.depth;
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
      summary: { reason: 'transfer' },
    });

    const assignment = tx.create(CardAssignment, { card, account: customer, exclusive: true });
    await tx.flush();
    record(assignmentChange(assignment, target.path, 'created', toCardOwnerDto(card)));
    return after;
  });
}
