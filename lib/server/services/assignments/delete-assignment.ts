import type { EntityManager } from '@mikro-orm/postgresql';
import { CardAssignment } from '@/lib/server/entities';
import type { TActor } from '@/lib/server/authz/actor';
import { assertCan } from '@/lib/server/authz/can';
import { carrierIdOf } from '@/lib/server/authz/scope';
import { conflict, notFound } from '@/lib/server/errors/domain-error';
import { mutate } from '@/lib/server/live/change-log';
import { toCardOwnerDto } from '@/lib/server/services/cards/card-store';
import { assuranceChanged } from '@/lib/server/services/rates/rate-sets';
import { assertNothingDerivedVia, assignmentChange, assignmentScopeSql } from './assignment-store';
import { settleSpansAtCommit } from './span-dating';

/**
 * `DELETE /assignments/{id}` by the card's owning account. Refused (409 listing them)
 * while the assignee has cards derived from it: their rates would lose their source.
 * Its row lock orders it against a derive from it or a change of parents to it (which
 * hold it shared first: `lockHeldAssignments`), the card's against rate writers reading
 * its holders.
 */
export async function deleteAssignment(
  em: EntityManager,
  actor: TActor,
  unverifiedId: string,
): Promise<void> {
  assertCan(actor, 'assignments:delete');
  await mutate(em, actor, async (tx, record) => {
    const scope = assignmentScopeSql(actor);
    const rows = await tx.execute<{ owner_path: string }[]>(
      `select o.path as owner_path from card_assignment ca
         join card c on c.id = ca.card_id join account o on o.id = c.owner_id
        where ca.id = ? and ${scope.where} for update of ca, c`,
      [unverifiedId, ...scope.params],
    );
    if (!rows[0]) throw notFound('assignment');
    const assignment = await tx.findOneOrFail(
      CardAssignment,
      { id: unverifiedId },
      { populate: ['card', 'card.owner', 'account'] },
    );
    if (assignment.card.owner.id !== actor.account.id) {
      throw conflict('not_card_owner', "Only the card's owning account removes its assignments.");
    }
    await assertNothingDerivedVia(
      tx,
      assignment.card.id,
      assignment.account.id,
      'Cards were derived from this assignment; they must go first.',
    );
    const card = toCardOwnerDto(assignment.card);
    tx.remove(assignment);
    await tx.flush();
    record(assignmentChange(assignment, rows[0].owner_path, 'deleted', card));
    if (assignment.exclusive) {
      settleSpansAtCommit(record, carrierIdOf(rows[0].owner_path), [assignment.account.id]);
    }
    // A card the assignee built by hand may be assured against this one: no longer its to
    // compare with, its losses against it are forgotten now (not at the next rate change).
    assuranceChanged(record, carrierIdOf(rows[0].owner_path), [assignment.card.id]);
  });
}
