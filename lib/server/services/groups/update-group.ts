import type { EntityManager } from '@mikro-orm/postgresql';
import type { TActor } from '@/lib/server/authz/actor';
import { assertCan } from '@/lib/server/authz/can';
import { conflict, DomainError, staleVersion } from '@/lib/server/errors/domain-error';
import type { TGroup } from '@/lib/server/entities';
import { ALL_GRANTS } from '@/lib/shared/permissions';
import { mutate } from '@/lib/server/live/change-log';
import { withinSql } from '@/lib/server/authz/scope';
import type { TGroupDto, TGroupPatch } from '@/lib/shared/schemas/groups';
import { findVisibleGroup } from './group-access';
import { endViewsOf } from '@/lib/server/services/impersonation/stop-impersonation';
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
  return mutate(
    em,
    actor,
    async (tx, record) => {
      // The row held before it is read, when the actor's subtree owns it (an id from
      // elsewhere, an ancestor's group, locks nothing): the version is compared with what no
      // one else can change meanwhile — two saves at once, the second gets 409 with the
      // current group, not a bare conflict at flush. (Members' writes in flight are waited
      // for by the author lock this `mutate` takes first: authz/actor-holds.ts, `revokes`.)
      const inScope = withinSql('a.path', actor.account.path);
      await tx.execute(
        `select 1 from user_group g join account a on a.id = g.account_id
        where g.id = ? and ${inScope.sql} for update of g`,
        [unverifiedId, ...inScope.params],
      );
      const { group, relation } = await findVisibleGroup(tx, actor, unverifiedId, { edit: true });
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
      if (patch.grants !== undefined)
        await assertCarrierKeepsAdministrator(tx, group, patch.grants);
      const losesViews =
        patch.grants !== undefined &&
        group.grants.includes('impersonation:start') &&
        !patch.grants.includes('impersonation:start');
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
      // Its people lose the view-as grant: their open views end (a stop recorded for
      // each), after the group's own entry, at which their sockets are re-checked.
      if (losesViews) {
        const members = await tx.execute<{ id: string; path: string }[]>(
          `select u.id, a.path from app_user u join account a on a.id = u.account_id
            where u.group_id = ?`,
          [group.id],
        );
        await endViewsOf(
          tx,
          members.map((member) => ({ userId: member.id, account: { path: member.path } })),
          record,
        );
      }
      return after;
    },
    { revokes: [unverifiedId] },
  );
}

/**
 * A carrier has nobody above it: an edit that takes from a group holding every grant the
 * last of the carrier's active people holding them could never be undone in the panel —
 * the subset rule lets no one give back what they lack (a carrier admin who unticked
 * `groups:update` on its own group was locked out for good). Refused, naming why; a
 * reseller's groups can always be mended from above.
 */
async function assertCarrierKeepsAdministrator(
  tx: EntityManager,
  group: TGroup,
  grants: readonly string[],
): Promise<void> {
  if (group.account.kind !== 'carrier') return;
  const holdsAll = (held: readonly string[]) => ALL_GRANTS.every((grant) => held.includes(grant));
  if (!holdsAll(group.grants) || holdsAll(grants)) return;
  // One such edit of a carrier at a time: two admins each unticking their own group's
  // grant at once would each count the other as the one who keeps them all.
  await tx.execute(`select pg_advisory_xact_lock(hashtext('last-administrator:' || ?))`, [
    group.account.id,
  ]);
  const others = await tx.execute<{ id: string }[]>(
    `select u.id from app_user u join user_group g on g.id = u.group_id
      where u.account_id = ? and u.status = 'active' and g.id <> ? and g.grants @> array[?]::text[]
      limit 1`,
    [group.account.id, group.id, ALL_GRANTS],
  );
  if (others.length) return;
  throw conflict(
    'last_administrator',
    'No active person of the carrier would keep every grant: nobody could give them back. ' +
      'Give someone a group holding every grant first.',
    { fields: { grants: 'would leave the carrier without an administrator' } },
  );
}
