import type { EntityManager } from '@mikro-orm/postgresql';
import type { TActor } from '@/lib/server/authz/actor';
import { assertCan } from '@/lib/server/authz/can';
import { DomainError, staleVersion } from '@/lib/server/errors/domain-error';
import { mutate } from '@/lib/server/live/change-log';
import { withinSql } from '@/lib/server/authz/scope';
import type { TGroupDto, TGroupPatch } from '@/lib/shared/schemas/groups';
import { findVisibleGroup } from './group-access';
import { toGroupDto } from './group-dto';
import { assertNoEscalation } from './no-escalation';

/**
 * Renames a group, replaces its grants or sets whether its users must use MFA. Only groups owned in the actor's subtree; an
 * ancestor's group is use-only (403). The grants before and after must be within the
 * actor's.
 * Every user of the group gets the new grants on their next request.
 */
export async function updateGroup(
  em: EntityManager,
  actor: TActor,
  unverifiedId: string,
  patch: TGroupPatch,
): Promise<TGroupDto> {
  assertCan(actor, 'groups:update');
  return mutate(em, actor, async (tx, record) => {
    // The row held before it is read, when the actor's subtree owns it (an id from
    // elsewhere, an ancestor's group, locks nothing): the version is compared with what no
    // one else can change meanwhile — two saves at once, the second gets 409 with the
    // current group, not a bare conflict at flush.
    const inScope = withinSql('a.path', actor.account.path);
    await tx.execute(
      `select 1 from user_group g join account a on a.id = g.account_id
        where g.id = ? and ${inScope.sql} for no key update of g`,
      [unverifiedId, ...inScope.params],
    );
    const { group, relation } = await findVisibleGroup(tx, actor, unverifiedId);
    if (relation !== 'owner') {
      throw new DomainError(
        'forbidden',
        'use_only',
        "An ancestor account's group can be used, not edited.",
      );
    }
    const before = toGroupDto(group, 'owner') as TGroupDto;
    if (patch.version !== group.version) throw staleVersion(before);
    // Any edit, a rename included, needs the group's grants within the editor's own,
    // before and after: a grant the editor lacks can be neither added nor removed
    // (DESIGN §1 "No escalation") — such a group is edited by someone who holds it.
    assertNoEscalation(actor, group.grants);
    assertNoEscalation(actor, patch.grants ?? group.grants);
    if (patch.grants !== undefined) group.grants = patch.grants;
    if (patch.name !== undefined) group.name = patch.name;
    if (patch.requireMfa !== undefined) group.requireMfa = patch.requireMfa;
    await tx.flush();
    const after = toGroupDto(group, 'owner') as TGroupDto;
    if (after.version !== before.version) {
      record({
        resource: 'groups',
        entityId: group.id,
        op: 'updated',
        version: group.version,
        before: { ...before },
        after: { ...after },
        scopeBefore: group.account.path,
        scopeAfter: group.account.path,
      });
    }
    return after;
  });
}
