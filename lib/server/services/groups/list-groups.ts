import type { EntityManager } from '@mikro-orm/postgresql';
import type { TActor } from '@/lib/server/authz/actor';
import { can } from '@/lib/server/authz/can';
import { forbidden } from '@/lib/server/errors/domain-error';
import { decodeCursor, pageOf } from '@/lib/server/services/paging';
import type { TPage } from '@/lib/shared/schemas/common';
import type { TGroupDto, TUseOnlyGroupDto } from '@/lib/shared/schemas/groups';
import { mayAssignGroups, visibleGroups } from './group-access';
import { toGroupDto } from './group-dto';

/** Groups owned in the actor's subtree, then ancestors' groups it may assign (use-only). */
export async function listGroups(
  em: EntityManager,
  actor: TActor,
  query: { limit: number; cursor?: string },
): Promise<TPage<TGroupDto | TUseOnlyGroupDto>> {
  if (!can(actor, 'groups:read') && !mayAssignGroups(actor)) throw forbidden('groups:read');
  const after = decodeCursor(query.cursor);
  const rows = (await visibleGroups(em, actor)).filter(
    ({ group }) =>
      !after ||
      group.createdAt > after.createdAt ||
      (group.createdAt.getTime() === after.createdAt.getTime() && group.id > after.id),
  );
  const page = pageOf(
    rows.map((row) => ({ ...row, createdAt: row.group.createdAt, id: row.group.id })),
    query.limit,
  );
  return {
    items: page.items.map(({ group, relation }) => toGroupDto(group, relation)),
    nextCursor: page.nextCursor,
  };
}
